import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { unlessTaken } from "../db/errors.ts";
import { isId } from "../db/ids.ts";
import { type Preset, presets } from "../db/schema.ts";

/*
 * Every function takes the person's id and matches it in the same statement as the preset's:
 * another person's preset is not found, exactly like one that never existed.
 */

export type PresetValues = Pick<
  Preset,
  "name" | "model" | "systemPrompt" | "temperature" | "maxTokens" | "reasoningEffort" | "pdfEngine"
>;

/** A person's presets, by name. */
export function listPresets(db: Db, userId: string): Promise<Preset[]> {
  return db.select().from(presets).where(eq(presets.userId, userId)).orderBy(asc(presets.name), asc(presets.id));
}

/** A preset, if it exists and is this person's. */
export async function getOwnPreset(db: Db, userId: string, id: unknown): Promise<Preset | undefined> {
  if (!isId(id)) return undefined;
  const [preset] = await db
    .select()
    .from(presets)
    .where(and(eq(presets.id, id), eq(presets.userId, userId)));
  return preset;
}

/** A new preset; "taken" when the person already has one of that name. */
export async function insertPreset(db: Db, userId: string, values: PresetValues): Promise<Preset | "taken"> {
  return unlessTaken(async () => {
    const [preset] = await db
      .insert(presets)
      .values({ userId, ...values })
      .returning();
    return preset!;
  });
}

/** Changes one of this person's presets: undefined when it is not theirs, "taken" when the name is another's. */
export async function updatePreset(
  db: Db,
  userId: string,
  id: unknown,
  values: PresetValues,
): Promise<Preset | "taken" | undefined> {
  if (!isId(id)) return undefined;
  return unlessTaken(async () => {
    const [preset] = await db
      .update(presets)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(presets.id, id), eq(presets.userId, userId)))
      .returning();
    return preset;
  });
}

export async function deletePreset(db: Db, userId: string, id: unknown): Promise<boolean> {
  if (!isId(id)) return false;
  const deleted = await db
    .delete(presets)
    .where(and(eq(presets.id, id), eq(presets.userId, userId)))
    .returning({ id: presets.id });
  return deleted.length > 0;
}
