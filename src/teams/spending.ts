import { eq } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type UsageKind, usage } from "../db/schema.ts";

/**
 * The contract every path that spends money upstream follows (answers, retries, regenerations,
 * titles, /v1): reserve before the request goes, settle when its usage arrives.
 * STUB (issue 22): reserve counts nothing yet; the limits work replaces the body, not the signatures.
 */

/** A refusal a person reads: which limit, how much, and when it resets. */
export class SpendingRefused extends Error {}

export type Spend = {
  userId: string;
  kind: UsageKind;
  model: string;
  /** In US dollars: the most the request is expected to cost (the model's prices × the request's size). */
  estimate: number;
  messageId?: string;
  apiKeyId?: string;
};

/** Writes the request's usage row, counted from now on; throws SpendingRefused when over a limit. Returns the row's id. */
export async function reserve(db: Db, spend: Spend): Promise<string> {
  const [row] = await db.insert(usage).values(spend).returning({ id: usage.id });
  return row!.id;
}

/** Records what the request really used; its cost replaces the estimate in every count. */
export async function settle(
  db: Db,
  usageId: string,
  used: { promptTokens?: number | null; completionTokens?: number | null; cost?: number | null },
): Promise<void> {
  await db
    .update(usage)
    .set({
      promptTokens: used.promptTokens ?? null,
      completionTokens: used.completionTokens ?? null,
      cost: used.cost ?? 0,
      settledAt: new Date(),
    })
    .where(eq(usage.id, usageId));
}
