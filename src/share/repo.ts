import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { chats, type Share, type SharedMessage, shares } from "../db/schema.ts";
import type { ShareSummary } from "./types.ts";

/*
 * A share belongs to whoever owns its chat: every query a person's request reaches matches the
 * owner through the chat in the same statement, so another person's link is not found, exactly
 * like one that never existed. Only `shareByTokenHash` has no owner: the link is the permission.
 */

const summary = {
  id: shares.id,
  chatId: shares.chatId,
  title: shares.title,
  createdAt: shares.createdAt,
  messageCount: sql<number>`jsonb_array_length(${shares.messages})::int`,
};

const FOREIGN_KEY_VIOLATION = "23503";

/** Stores a snapshot; undefined when its chat was deleted meanwhile. */
export async function insertShare(
  db: Db,
  values: { tokenHash: string; chatId: string; title: string; messages: SharedMessage[] },
): Promise<ShareSummary | undefined> {
  try {
    const [row] = await db.insert(shares).values(values).returning(summary);
    return row;
  } catch (e) {
    const err = e as { code?: unknown; cause?: { code?: unknown } };
    if ((err.code ?? err.cause?.code) === FOREIGN_KEY_VIOLATION) return undefined;
    throw e;
  }
}

/** A person's links, newest first: of one chat, or of all their chats. */
export function ownShares(db: Db, userId: string, chatId?: string): Promise<ShareSummary[]> {
  return db
    .select(summary)
    .from(shares)
    .innerJoin(chats, eq(chats.id, shares.chatId))
    .where(and(eq(chats.userId, userId), chatId === undefined ? undefined : eq(shares.chatId, chatId)))
    .orderBy(desc(shares.createdAt), desc(shares.id));
}

/** Deletes one of this person's links; false when there is no such link of theirs. */
export async function deleteOwnShare(db: Db, userId: string, id: unknown): Promise<boolean> {
  if (!isId(id)) return false;
  const owned = db.select({ id: chats.id }).from(chats).where(eq(chats.userId, userId));
  const deleted = await db
    .delete(shares)
    .where(and(eq(shares.id, id), inArray(shares.chatId, owned)))
    .returning({ id: shares.id });
  return deleted.length > 0;
}

export async function shareByTokenHash(db: Db, tokenHash: string): Promise<Share | undefined> {
  const [share] = await db.select().from(shares).where(eq(shares.tokenHash, tokenHash));
  return share;
}
