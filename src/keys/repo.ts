import { and, count, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { type ApiKey, apiKeys, users } from "../db/schema.ts";
import type { KeySummary } from "./types.ts";

const summary = {
  id: apiKeys.id,
  name: apiKeys.name,
  prefix: apiKeys.prefix,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
};

const live = (userId: string) => and(eq(apiKeys.userId, userId), isNull(apiKeys.revokedAt));

/** A person's live keys, newest first. */
export function liveKeys(db: Db, userId: string): Promise<KeySummary[]> {
  return db.select(summary).from(apiKeys).where(live(userId)).orderBy(desc(apiKeys.createdAt), desc(apiKeys.id));
}

/**
 * Inserts a key unless the person already has `max` live keys or a live one of that name
 * (names compared without case). The person's row is locked meanwhile, so two creations at
 * once cannot both pass the checks.
 */
export function insertKey(
  db: Db,
  values: { userId: string; name: string; tokenHash: string; prefix: string },
  max: number,
): Promise<KeySummary | "too-many" | "name-taken"> {
  return db.transaction(async (tx) => {
    await tx.select({ id: users.id }).from(users).where(eq(users.id, values.userId)).for("update");
    const [counted] = await tx.select({ n: count() }).from(apiKeys).where(live(values.userId));
    if ((counted?.n ?? 0) >= max) return "too-many";
    const [same] = await tx
      .select({ id: apiKeys.id })
      .from(apiKeys)
      .where(and(live(values.userId), sql`lower(${apiKeys.name}) = lower(${values.name})`));
    if (same) return "name-taken";
    const [row] = await tx.insert(apiKeys).values(values).returning(summary);
    return row!;
  });
}

/** Revokes one of this person's live keys; its name, or undefined when there is no such key of theirs. */
export async function revokeKey(db: Db, userId: string, id: unknown): Promise<string | undefined> {
  if (!isId(id)) return undefined;
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), live(userId)))
    .returning({ name: apiKeys.name });
  return row?.name;
}

/** The key behind a token's hash, revoked or not, with whether its owner is disabled. */
export async function keyByHash(
  db: Db,
  tokenHash: string,
): Promise<
  (Pick<ApiKey, "id" | "userId" | "name" | "revokedAt" | "lastUsedAt"> & { userDisabledAt: Date | null }) | undefined
> {
  const [row] = await db
    .select({
      id: apiKeys.id,
      userId: apiKeys.userId,
      name: apiKeys.name,
      revokedAt: apiKeys.revokedAt,
      lastUsedAt: apiKeys.lastUsedAt,
      userDisabledAt: users.disabledAt,
    })
    .from(apiKeys)
    .innerJoin(users, eq(users.id, apiKeys.userId))
    .where(eq(apiKeys.tokenHash, tokenHash));
  return row;
}

/** Notes that a key was used, unless that was noted less than `everyMs` ago (here or on another instance). */
export async function touchKey(db: Db, id: string, everyMs: number): Promise<void> {
  const since = new Date(Date.now() - everyMs);
  await db
    .update(apiKeys)
    .set({ lastUsedAt: new Date() })
    .where(and(eq(apiKeys.id, id), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, since))));
}
