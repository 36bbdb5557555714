import { and, eq, inArray, lt, notExists, or, sql } from "drizzle-orm";
import { forgetBusEvents, heldFiles } from "../chat/repos/chats.ts";
import type { Db } from "../db/client.ts";
import { chats, messages } from "../db/schema.ts";
import { deleteUnheld } from "../files/repo.ts";

/*
 * Temporary chats: kept alive while a tab shows them (touch), deleted once left or too old (sweep).
 * Their updated_at is the heartbeat: a temporary chat is never listed, so nothing else orders by it.
 */

/** Marks these temporary chats as shown by a tab right now. */
export async function touch(db: Db, chatIds: string[]): Promise<void> {
  if (!chatIds.length) return;
  await db
    .update(chats)
    .set({ updatedAt: sql`now()` })
    .where(and(inArray(chats.id, chatIds), sql`${chats.temporary}`));
}

export type Expiry = { graceSeconds: number; hours: number };

/** Temporary chats left (no tab touched them for the grace period) or made too long ago. */
const expired = ({ graceSeconds, hours }: Expiry) =>
  and(
    sql`${chats.temporary}`,
    or(
      lt(chats.updatedAt, sql`now() - make_interval(secs => ${graceSeconds})`),
      lt(chats.createdAt, sql`now() - make_interval(hours => ${hours})`),
    ),
  );

/**
 * Deletes up to `batch` expired temporary chats, everyone's, with their messages, annotations,
 * shares (cascade), live events between instances, and the files nothing else holds. Safe with
 * several instances sweeping at once: each locks the chats it takes, skipping those another holds
 * (or a send is adding a message to). Two statements, as for files (see files/repo.ts): after the
 * lock, the delete checks afresh that the chat is still expired and no answer is being written in
 * it, seeing whatever committed before the lock. Answers the chats deleted.
 */
export async function sweep(db: Db, expiry: Expiry, batch = 100): Promise<{ id: string; userId: string | null }[]> {
  const { deleted, held } = await db.transaction(async (tx) => {
    const locked = await tx
      .select({ id: chats.id })
      .from(chats)
      .where(expired(expiry))
      .orderBy(chats.createdAt)
      .limit(batch)
      .for("update", { skipLocked: true });
    if (!locked.length) return { deleted: [], held: [] };
    const ids = locked.map((c) => c.id);
    const held = await heldFiles(tx, ids);
    const writing = tx
      .select({ id: messages.id })
      .from(messages)
      .where(and(eq(messages.chatId, chats.id), eq(messages.status, "streaming")));
    const deleted = await tx
      .delete(chats)
      .where(and(inArray(chats.id, ids), expired(expiry), notExists(writing)))
      .returning({ id: chats.id, userId: chats.userId });
    await forgetBusEvents(
      tx,
      deleted.map((c) => c.id),
    );
    return { deleted, held };
  });
  // The chats are gone whatever happens here: files left behind are the unsent-files sweep's.
  for (const userId of new Set(deleted.map((c) => c.userId))) {
    if (userId) await deleteUnheld(db, userId, held).catch(() => {});
  }
  return deleted;
}
