import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import { heldFiles } from "../chat/repos/chats.ts";
import type { Db } from "../db/client.ts";
import { type Chat, chats } from "../db/schema.ts";

/*
 * Each function changes a person's listed chats (theirs, neither temporary nor archived) among
 * the ids given, in one statement or one transaction, and answers the chats it changed: another
 * person's chat, a temporary one, or one gone meanwhile is left out exactly like an unknown id.
 */

const listedOwn = (userId: string, ids: string[]) =>
  and(eq(chats.userId, userId), inArray(chats.id, ids), isNull(chats.archivedAt), sql`not ${chats.temporary}`);

/** The person's listed chats among these ids (those a bulk action would change). */
export async function listedChatIds(db: Db, userId: string, ids: string[]): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await db.select({ id: chats.id }).from(chats).where(listedOwn(userId, ids));
  return rows.map((r) => r.id);
}

/** Archives them: they leave the list (search and the Archive page still find them). */
export async function archiveChats(db: Db, userId: string, ids: string[]): Promise<Chat[]> {
  if (!ids.length) return [];
  return db.update(chats).set({ archivedAt: new Date() }).where(listedOwn(userId, ids)).returning();
}

/** Puts them in one of the person's projects (its id, checked by the caller), or out of any (null). */
export async function moveChats(db: Db, userId: string, ids: string[], projectId: string | null): Promise<Chat[]> {
  if (!ids.length) return [];
  return db.update(chats).set({ projectId }).where(listedOwn(userId, ids)).returning();
}

/**
 * Deletes them with their messages, in one transaction; answers their ids and the files their
 * messages or snapshots held, which the caller deletes after unless something else holds them
 * (as deleteChat does for one chat).
 */
export async function deleteChats(db: Db, userId: string, ids: string[]): Promise<{ ids: string[]; held: string[] }> {
  if (!ids.length) return { ids: [], held: [] };
  return db.transaction(async (tx) => {
    // Only the person's own chats' files are looked at, and those chats are held until the end.
    const own = (await tx.select({ id: chats.id }).from(chats).where(listedOwn(userId, ids)).for("update")).map(
      (r) => r.id,
    );
    if (!own.length) return { ids: [], held: [] };
    const held = await heldFiles(tx, own);
    const gone = await tx
      .delete(chats)
      .where(and(eq(chats.userId, userId), inArray(chats.id, own)))
      .returning({ id: chats.id });
    return { ids: gone.map((r) => r.id), held };
  });
}
