import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { chats, files, type Share, type SharedMessage, shareFiles, shares } from "../db/schema.ts";
import type { ServedFile } from "../files/serve.ts";
import type { ShareSummary } from "./types.ts";

/*
 * A share belongs to whoever owns its chat: every query a person's request reaches matches the
 * owner through the chat in the same statement, so another person's link is not found, exactly
 * like one that never existed. Only `shareByTokenHash` and `sharedFile` have no owner: the link is
 * the permission.
 */

const summary = {
  id: shares.id,
  chatId: shares.chatId,
  title: shares.title,
  createdAt: shares.createdAt,
  messageCount: sql<number>`jsonb_array_length(${shares.messages})::int`,
};

const FOREIGN_KEY_VIOLATION = "23503";

/** Stores a snapshot and links its files (see shareFiles); undefined when its chat was deleted meanwhile. */
export async function insertShare(
  db: Db,
  values: { tokenHash: string; chatId: string; title: string; messages: SharedMessage[] },
  links: { id: string; fileId: string }[],
): Promise<ShareSummary | undefined> {
  try {
    return await db.transaction(async (tx) => {
      const [row] = await tx.insert(shares).values(values).returning(summary);
      if (links.length) await tx.insert(shareFiles).values(links.map((l) => ({ ...l, shareId: row!.id })));
      return row;
    });
  } catch (e) {
    // The chat, or a file of it, deleted while the snapshot was made.
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
/** Deletes one of this person's links; the deleted link's chat and title, or undefined when there was none. */
export async function deleteOwnShare(
  db: Db,
  userId: string,
  id: unknown,
): Promise<{ chatId: string; title: string } | undefined> {
  if (!isId(id)) return undefined;
  const owned = db.select({ id: chats.id }).from(chats).where(eq(chats.userId, userId));
  const [deleted] = await db
    .delete(shares)
    .where(and(eq(shares.id, id), inArray(shares.chatId, owned)))
    .returning({ chatId: shares.chatId, title: shares.title });
  return deleted;
}

export async function shareByTokenHash(db: Db, tokenHash: string): Promise<Share | undefined> {
  const [share] = await db.select().from(shares).where(eq(shares.tokenHash, tokenHash));
  return share;
}

/** A file of the snapshot behind this token, by its id in the snapshot; undefined for any other file. */
export async function sharedFile(db: Db, tokenHash: string, id: unknown): Promise<ServedFile | undefined> {
  if (!isId(id)) return undefined;
  const [file] = await db
    .select({ name: files.name, type: files.type, sha256: files.sha256, bytes: files.bytes })
    .from(shareFiles)
    .innerJoin(shares, eq(shares.id, shareFiles.shareId))
    .innerJoin(files, eq(files.id, shareFiles.fileId))
    .where(and(eq(shareFiles.id, id), eq(shares.tokenHash, tokenHash)));
  return file;
}
