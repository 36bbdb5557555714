import { and, asc, desc, eq, gte, lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { type Chat, chats, type Message, type MessageStatus, messages } from "../db/schema.ts";

export { isId };

/*
 * Every function a person's request reaches takes their user id and matches it in the same
 * query as the chat id: another person's chat is not found, exactly like one that never existed.
 * Those without a user id (getChat, getMessage, ...) serve the server's own work on a chat it
 * already holds, such as finishing an answer.
 */

/** A person's most recently active chats first. */
export function listRecentChats(db: Db, userId: string, limit = 100): Promise<Chat[]> {
  return db
    .select()
    .from(chats)
    .where(eq(chats.userId, userId))
    .orderBy(desc(chats.updatedAt), desc(chats.id))
    .limit(limit);
}

/** A chat, if it exists and belongs to this person. */
export async function getOwnChat(db: Db, userId: string, id: unknown): Promise<Chat | undefined> {
  if (!isId(id)) return undefined;
  const [chat] = await db
    .select()
    .from(chats)
    .where(and(eq(chats.id, id), eq(chats.userId, userId)));
  return chat;
}

export async function getChat(db: Db, id: string): Promise<Chat | undefined> {
  if (!isId(id)) return undefined;
  const [chat] = await db.select().from(chats).where(eq(chats.id, id));
  return chat;
}

export async function createChat(db: Db, values: { userId: string; title: string; model: string }): Promise<Chat> {
  const [chat] = await db.insert(chats).values(values).returning();
  return chat!;
}

export async function updateChat(
  db: Db,
  userId: string,
  id: string,
  values: Partial<Pick<Chat, "title" | "model">>,
): Promise<Chat | undefined> {
  if (!isId(id)) return undefined;
  const [chat] = await db
    .update(chats)
    .set({ ...values })
    .where(and(eq(chats.id, id), eq(chats.userId, userId)))
    .returning();
  return chat;
}

export async function deleteChat(db: Db, userId: string, id: string): Promise<boolean> {
  if (!isId(id)) return false;
  const deleted = await db
    .delete(chats)
    .where(and(eq(chats.id, id), eq(chats.userId, userId)))
    .returning({ id: chats.id });
  return deleted.length > 0;
}

/**
 * Saves the person's message and an empty streaming answer (one statement, so both or neither)
 * and moves the chat to the top of the list: the message is stored before anything goes
 * upstream. Two round trips, not a five-step transaction: this is on every send's path.
 */
export async function insertExchange(
  db: Db,
  chatId: string,
  content: string,
  model: string,
): Promise<{ user: Message; assistant: Message; chat: Chat }> {
  // Ids are made here, in this order (Bun's UUIDv7 is monotonic): the answer sorts after the question.
  const userId = Bun.randomUUIDv7();
  const assistantId = Bun.randomUUIDv7();
  const [inserted, [chat]] = await Promise.all([
    db
      .insert(messages)
      .values([
        { id: userId, chatId, role: "user", content, status: "complete" },
        { id: assistantId, chatId, role: "assistant", content: "", status: "streaming", model },
      ])
      .returning(),
    db.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, chatId)).returning(),
  ]);
  const user = inserted.find((m) => m.id === userId)!;
  const assistant = inserted.find((m) => m.id === assistantId)!;
  return { user, assistant, chat: chat! };
}

/** A page of a chat's messages in reading order: the newest `limit`, or those before `before`. */
export async function listMessages(
  db: Db,
  chatId: string,
  opts: { before?: string; limit: number },
): Promise<{ messages: Message[]; hasOlder: boolean }> {
  const where = opts.before
    ? and(eq(messages.chatId, chatId), lt(messages.id, opts.before))
    : eq(messages.chatId, chatId);
  const rows = await db
    .select()
    .from(messages)
    .where(where)
    .orderBy(desc(messages.id))
    .limit(opts.limit + 1);
  const hasOlder = rows.length > opts.limit;
  return { messages: rows.slice(0, opts.limit).reverse(), hasOlder };
}

/** Every message from `since` on, in reading order (what a reconnecting tab shows live). */
export function listMessagesSince(db: Db, chatId: string, since: string, limit: number): Promise<Message[]> {
  const where = and(eq(messages.chatId, chatId), gte(messages.id, since));
  return db.select().from(messages).where(where).orderBy(asc(messages.id)).limit(limit);
}

/** The whole conversation, oldest first, for the upstream request. */
export function conversation(db: Db, chatId: string): Promise<Message[]> {
  return db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id));
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

export async function saveProgress(db: Db, id: string, content: string, reasoning: string): Promise<void> {
  await db
    .update(messages)
    .set({ content, reasoning: reasoning || null })
    .where(and(eq(messages.id, id), eq(messages.status, "streaming")));
}

export type Finish = {
  status: Exclude<MessageStatus, "streaming">;
  content: string;
  html: string;
  reasoning?: string | null;
  error?: string | null;
  finishReason?: string | null;
  promptTokens?: number | null;
  completionTokens?: number | null;
  reasoningTokens?: number | null;
  cachedTokens?: number | null;
  cost?: number | null;
};

export async function finishMessage(db: Db, id: string, finish: Finish): Promise<Message | undefined> {
  const [message] = await db
    .update(messages)
    .set({ ...finish, finishedAt: new Date() })
    .where(eq(messages.id, id))
    .returning();
  return message;
}

/** Empties an answer to write it again. */
export async function restartMessage(db: Db, id: string, model: string): Promise<Message | undefined> {
  const [message] = await db
    .update(messages)
    .set({
      content: "",
      html: null,
      reasoning: null,
      error: null,
      finishReason: null,
      reasoningTokens: null,
      cachedTokens: null,
      status: "streaming",
      model,
      promptTokens: null,
      completionTokens: null,
      cost: null,
      finishedAt: null,
    })
    .where(and(eq(messages.id, id), sql`${messages.status} <> 'streaming'`))
    .returning();
  return message;
}

/** Answers left `streaming` by a process that died; they become `interrupted`. */
export function orphanedAnswers(db: Db): Promise<Message[]> {
  return db.select().from(messages).where(eq(messages.status, "streaming"));
}

/** A person's chat and whether an answer in it is being written, in one query (the send path). */
export async function getOwnChatForSend(
  db: Db,
  userId: string,
  id: unknown,
): Promise<{ chat: Chat; streaming: boolean } | undefined> {
  if (!isId(id)) return undefined;
  const [row] = await db
    .select({
      chat: chats,
      // Spelled out: drizzle leaves columns unqualified here, and "id" would mean messages.id.
      streaming: sql<boolean>`exists (select 1 from messages where messages.chat_id = chats.id and messages.status = 'streaming')`,
    })
    .from(chats)
    .where(and(eq(chats.id, id), eq(chats.userId, userId)));
  return row;
}

/** A person's chats with an answer being written (the partial index on streaming messages serves this). */
export async function generatingChats(db: Db, userId: string): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ chatId: messages.chatId })
    .from(messages)
    .innerJoin(chats, eq(chats.id, messages.chatId))
    .where(and(eq(messages.status, "streaming"), eq(chats.userId, userId)));
  return new Set(rows.map((r) => r.chatId));
}

/** What a chat has cost so far: tokens in and out, and dollars, over its answers. */
export async function chatTotals(db: Db, chatId: string): Promise<{ tokens: number; cost: number }> {
  const [row] = await db
    .select({
      tokens: sql<number>`coalesce(sum(coalesce(${messages.promptTokens}, 0) + coalesce(${messages.completionTokens}, 0)), 0)::int`,
      cost: sql<number>`coalesce(sum(${messages.cost}), 0)::float8`,
    })
    .from(messages)
    .where(eq(messages.chatId, chatId));
  return { tokens: Number(row?.tokens ?? 0), cost: Number(row?.cost ?? 0) };
}
