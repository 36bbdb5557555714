import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { files, messageFiles } from "../../db/schema.ts";
import type { FileInfo } from "../../files/types.ts";

/*
 * The files attached to messages: the chat's side of files (src/files/ stores and serves them).
 * A person's message carries only that person's files: `attach` takes them by owner and id.
 */

const info = { id: files.id, name: files.name, size: files.size, type: files.type };

/** An attached file with its bytes, as a request to the model needs it. */
export type AttachedFile = FileInfo & { bytes: Uint8Array };

/** This person's files among `ids`, in the order asked; ids not theirs (or no file) are left out. */
export async function ownFiles(db: Db, userId: string, ids: string[]): Promise<FileInfo[]> {
  if (!ids.length) return [];
  const rows = await db
    .select(info)
    .from(files)
    .where(and(eq(files.userId, userId), inArray(files.id, ids)));
  const byId = new Map(rows.map((r) => [r.id, r]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/**
 * Attaches this person's files to a message, in order, inside the send's transaction; false if
 * one is no longer theirs (then the caller undoes the send). The files are locked (key share,
 * which only a deletion waits for) until the send commits, so the deletion of unheld files skips
 * them rather than deleting them from under the new message (see deleteUnheld in files/repo.ts).
 */
export async function attach(tx: Db, userId: string, messageId: string, ids: string[]): Promise<boolean> {
  const locked = await tx
    .select({ id: files.id })
    .from(files)
    .where(and(eq(files.userId, userId), inArray(files.id, ids)))
    .for("key share");
  if (locked.length < ids.length) return false;
  await tx.insert(messageFiles).values(ids.map((fileId, position) => ({ messageId, fileId, position })));
  return true;
}

/** Attaches one file after the message's others (an image of an answer, as it arrives). */
export async function attachNext(db: Db, messageId: string, fileId: string): Promise<void> {
  const next = sql<number>`(select coalesce(max(${messageFiles.position}) + 1, 0) from ${messageFiles} where ${messageFiles.messageId} = ${messageId})`;
  await db.insert(messageFiles).values({ messageId, fileId, position: next });
}

/** The files attached to each of these messages, in order (no bytes): what a page shows. */
export function attachmentsOf(db: Db, messageIds: string[]): Promise<Map<string, FileInfo[]>> {
  return byMessage(db, messageIds, false);
}

/** The same with their bytes: what a request to the model sends. */
export function attachedFiles(db: Db, messageIds: string[]): Promise<Map<string, AttachedFile[]>> {
  return byMessage(db, messageIds, true);
}

/** Each message's files in order; with their bytes only when asked (a page needs none). */
async function byMessage(db: Db, messageIds: string[], bytes: boolean): Promise<Map<string, AttachedFile[]>> {
  const found = new Map<string, AttachedFile[]>();
  if (!messageIds.length) return found;
  const rows = (await db
    .select({ messageId: messageFiles.messageId, ...info, ...(bytes ? { bytes: files.bytes } : {}) })
    .from(messageFiles)
    .innerJoin(files, eq(files.id, messageFiles.fileId))
    .where(inArray(messageFiles.messageId, messageIds))
    .orderBy(asc(messageFiles.messageId), asc(messageFiles.position))) as (AttachedFile & { messageId: string })[];
  for (const { messageId, ...file } of rows) found.set(messageId, [...(found.get(messageId) ?? []), file]);
  return found;
}
