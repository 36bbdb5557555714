import { and, asc, desc, eq, gte, lt } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { isId } from "../../db/ids.ts";
import { chats, type Message, messages } from "../../db/schema.ts";

/** A page of a chat's messages in reading order: the newest `limit`, or those before `before`. */
export async function listMessages(
  db: Db,
  chatId: string,
  opts: { before?: string; limit: number },
): Promise<{ messages: Message[]; hasOlder: boolean }> {
  const where = opts.before
    ? and(eq(messages.chatId, chatId), eq(messages.active, true), lt(messages.id, opts.before))
    : and(eq(messages.chatId, chatId), eq(messages.active, true));
  const rows = await db
    .select()
    .from(messages)
    .where(where)
    .orderBy(desc(messages.id))
    .limit(opts.limit + 1);
  const hasOlder = rows.length > opts.limit;
  return { messages: rows.slice(0, opts.limit).reverse(), hasOlder };
}

/** Whether the chat has a message before `id` (the page shows "older messages" then). */
export async function hasMessagesBefore(db: Db, chatId: string, id: string): Promise<boolean> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true), lt(messages.id, id)))
    .limit(1);
  return row !== undefined;
}

/** Every message from `since` on, in reading order (what a reconnecting tab shows live). */
export function listMessagesSince(db: Db, chatId: string, since: string, limit: number): Promise<Message[]> {
  const where = and(eq(messages.chatId, chatId), eq(messages.active, true), gte(messages.id, since));
  return db.select().from(messages).where(where).orderBy(asc(messages.id)).limit(limit);
}

/** The conversation on the branch shown, oldest first (what goes upstream, and what is shared). */
export function conversation(db: Db, chatId: string): Promise<Message[]> {
  return db
    .select()
    .from(messages)
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true)))
    .orderBy(asc(messages.id));
}

/** A message, if it is in one of this person's chats. */
export async function getOwnMessage(db: Db, userId: string, id: unknown): Promise<Message | undefined> {
  if (!isId(id)) return undefined;
  const [row] = await db
    .select({ message: messages })
    .from(messages)
    .innerJoin(chats, eq(chats.id, messages.chatId))
    .where(and(eq(messages.id, id), eq(chats.userId, userId)));
  return row?.message;
}

/** A message by id, whoever's it is (to follow an answer another instance writes). */
export async function getMessage(db: Db, id: string): Promise<Message | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row;
}
