import { and, asc, desc, eq, getTableColumns, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { preparedOnce } from "../db/prepared.ts";
import { type Chat, chats, type Message, type MessageStatus, messages } from "../db/schema.ts";
import { type ChatSettings, settingsOf } from "./settings.ts";
import type { Siblings } from "./types.ts";

export { isId };

/*
 * Every function a person's request reaches takes their user id and matches it in the same
 * query as the chat id: another person's chat is not found, exactly like one that never existed.
 * Those without a user id (getChat, getMessage, ...) serve the server's own work on a chat it
 * already holds, such as finishing an answer.
 */

const p = sql.placeholder;

/**
 * A text column's first `at` characters (what earlier saves wrote) followed by `rest`: a save
 * that reached the database yet reported a failure, done again, does not double the text.
 */
const afterSaved = (column: AnyPgColumn, at: SQL, rest: SQL) => sql`left(coalesce(${column}, ''), ${at}) || ${rest}`;

/** A chat's messages (id, role, content, status) in order, as JSON text: the drivers would hand back JSON differently. */
const historyOf = (chatId: SQL) =>
  sql<string>`(select coalesce(json_agg(json_build_array(m.id, m.role, m.content, m.status) order by m.id), '[]')::text from messages m where m.chat_id = ${chatId} and m.active)`;

const parseHistory = (json: string): Turn[] =>
  (JSON.parse(json) as [string, Turn["role"], string, Turn["status"]][]).map(([id, role, content, status]) => ({
    id,
    role,
    content,
    status,
  }));

/** The statements every send and every answer runs (see preparedOnce). */
const hot = preparedOnce((db: Db) => {
  const withTotals = (where: ReturnType<typeof eq>) =>
    db
      .select({
        chat: chats,
        tokens: sql<number>`(select coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0)::int from messages where messages.chat_id = chats.id)`,
        cost: sql<number>`(select coalesce(sum(cost), 0)::float8 from messages where messages.chat_id = chats.id)`,
      })
      .from(chats)
      .where(where);
  // The chat is touched only if it is this person's and has no answer being written; the
  // messages take their chat id from it, so a refused send fails on chat_id's NOT NULL and
  // stores nothing. (A data-modifying WITH runs whether or not the statement reads it.)
  const touch = db.$with("touched").as(
    db
      .update(chats)
      .set({ updatedAt: sql`${p("updatedAt")}::timestamptz` })
      .where(
        and(
          eq(chats.id, p("chatId")),
          eq(chats.userId, p("userId")),
          sql`not exists (select 1 from messages where messages.chat_id = chats.id and messages.status = 'streaming')`,
        ),
      )
      .returning({ id: chats.id, model: chats.model }),
  );
  const touchedId = sql`(select id from touched)`;
  return {
    chatList: db
      .select({
        chat: chats,
        // Spelled out (drizzle leaves columns unqualified in sql``); a hashed subplan over the
        // partial index of streaming messages, read once per query.
        generating: sql<boolean>`chats.id in (select chat_id from messages where messages.status = 'streaming')`,
      })
      .from(chats)
      .where(eq(chats.userId, p("userId")))
      .orderBy(desc(chats.updatedAt), desc(chats.id))
      .limit(p("limit"))
      .prepare("chat_list"),
    ownChatForSend: db
      .select({
        chat: chats,
        // Spelled out: drizzle leaves columns unqualified here, and "id" would mean messages.id.
        streaming: sql<boolean>`exists (select 1 from messages where messages.chat_id = chats.id and messages.status = 'streaming')`,
        history: historyOf(sql`chats.id`),
      })
      .from(chats)
      .where(and(eq(chats.id, p("chatId")), eq(chats.userId, p("userId"))))
      .prepare("own_chat_for_send"),
    insertExchange: db
      .with(touch)
      .insert(messages)
      .values([
        {
          id: p("userMessageId"),
          chatId: touchedId,
          // The end of the branch shown: the newest message on it (ids grow from parent to child).
          parentId: sql`(select id from messages where chat_id = ${p("chatId")} and active order by id desc limit 1)`,
          role: "user",
          content: p("content"),
          status: "complete",
        },
        {
          id: p("answerId"),
          chatId: touchedId,
          parentId: p("userMessageId"),
          role: "assistant",
          content: "",
          status: "streaming",
          model: sql`(select model from touched)`,
        },
      ])
      // The subquery reads the messages as they were before this statement: the history the answer follows.
      .returning({ ...getTableColumns(messages), history: historyOf(sql`messages.chat_id`) })
      .prepare("insert_exchange"),
    finishMessage: db
      .update(messages)
      .set({
        status: sql`${p("status")}`,
        content: afterSaved(messages.content, sql`${p("at")}::int`, sql`${p("content")}`),
        html: sql`${p("html")}`,
        reasoning: sql`nullif(${afterSaved(messages.reasoning, sql`${p("reasoningAt")}::int`, sql`${p("reasoning")}`)}, '')`,
        error: sql`${p("error")}`,
        finishReason: sql`${p("finishReason")}`,
        promptTokens: sql`${p("promptTokens")}::int`,
        completionTokens: sql`${p("completionTokens")}::int`,
        reasoningTokens: sql`${p("reasoningTokens")}::int`,
        cachedTokens: sql`${p("cachedTokens")}::int`,
        cost: sql`${p("cost")}::float8`,
        finishedAt: sql`now()`,
      })
      .where(eq(messages.id, p("id")))
      .returning()
      .prepare("finish_message"),
    chatWithTotals: withTotals(eq(chats.id, p("chatId"))).prepare("chat_with_totals"),
    ownChatWithTotals: withTotals(and(eq(chats.id, p("chatId")), eq(chats.userId, p("userId")))!).prepare(
      "own_chat_with_totals",
    ),
  };
});

/**
 * A person's most recently active chats first, and which of them have an answer being written:
 * one query, run twice per answer (when it starts and when it ends).
 */
export async function chatList(
  db: Db,
  userId: string,
  limit = 100,
): Promise<{ chats: Chat[]; generating: Set<string> }> {
  const rows = await hot(db).chatList.execute({ userId, limit });
  return {
    chats: rows.map((r) => r.chat),
    generating: new Set(rows.filter((r) => r.generating).map((r) => r.chat.id)),
  };
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

export async function createChat(
  db: Db,
  values: { userId: string; title: string; model: string } & Partial<ChatSettings>,
): Promise<Chat> {
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

/** Sets a person's chat's system prompt and parameters; undefined when the chat is not theirs. */
export async function updateChatSettings(
  db: Db,
  userId: string,
  id: string,
  settings: ChatSettings,
): Promise<Chat | undefined> {
  if (!isId(id)) return undefined;
  const [chat] = await db
    .update(chats)
    .set(settingsOf(settings))
    .where(and(eq(chats.id, id), eq(chats.userId, userId)))
    .returning();
  return chat;
}

const settingsQuery = preparedOnce((db: Db) =>
  db
    .select({
      systemPrompt: chats.systemPrompt,
      temperature: chats.temperature,
      maxTokens: chats.maxTokens,
      reasoningEffort: chats.reasoningEffort,
    })
    .from(chats)
    .where(eq(chats.id, p("chatId")))
    .prepare("chat_settings"),
);

/** A chat's system prompt and parameters, as an answer about to be written needs them. */
export async function chatSettings(db: Db, chatId: string): Promise<ChatSettings | undefined> {
  const [row] = await settingsQuery(db).execute({ chatId });
  return row;
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
 * Saves the person's message and an empty streaming answer, moves the chat to the top of the
 * list, and reads the conversation so far, in one statement: the message is stored before
 * anything goes upstream, and a send costs one round trip and one commit. Undefined, with
 * nothing stored, when the chat is not this person's or has an answer being written.
 */
export async function insertExchange(
  db: Db,
  userId: string,
  chatId: string,
  content: string,
): Promise<{ user: Message; assistant: Message; history: Turn[] } | undefined> {
  // Ids are made here, in this order (Bun's UUIDv7 is monotonic): the answer sorts after the question.
  const userMessageId = Bun.randomUUIDv7();
  const answerId = Bun.randomUUIDv7();
  let inserted: (Message & { history: string })[];
  try {
    inserted = await hot(db).insertExchange.execute({
      chatId,
      userId,
      updatedAt: new Date().toISOString(),
      userMessageId,
      answerId,
      content,
    });
  } catch (e) {
    if (errorCode(e) === NOT_NULL_VIOLATION) return undefined;
    throw e;
  }
  const { history, ...user } = inserted.find((m) => m.id === userMessageId)!;
  const { history: _, ...assistant } = inserted.find((m) => m.id === answerId)!;
  return { user, assistant, history: parseHistory(history) };
}

const NOT_NULL_VIOLATION = "23502";

/** A Postgres error's SQLSTATE, from either driver, also when drizzle wraps the error. */
function errorCode(e: unknown): string | undefined {
  const err = e as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = err?.code ?? err?.cause?.code;
  return typeof code === "string" ? code : undefined;
}

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

/**
 * Adds what every answer being written gained since its last save, in one statement: at a
 * thousand answers that is one write a second, not a thousand. A finished answer is never touched.
 */
export async function saveProgress(
  db: Db,
  answers: { id: string; at: number; content: string; reasoningAt: number; reasoning: string }[],
): Promise<void> {
  if (!answers.length) return;
  // One JSON parameter: both drivers pass it the same way, whatever the number of answers.
  await db.execute(sql`
    update messages
    set content = ${afterSaved(messages.content, sql`v.at`, sql`v.content`)},
        reasoning = nullif(${afterSaved(messages.reasoning, sql`v."reasoningAt"`, sql`v.reasoning`)}, '')
    from json_to_recordset(${JSON.stringify(answers)}::json)
      as v(id uuid, at int, content text, "reasoningAt" int, reasoning text)
    where messages.id = v.id and messages.status = 'streaming'`);
}

/**
 * Everything an answer's end writes: each field, so one prepared statement serves every end. The
 * text and reasoning are what follows their first `at` / `reasoningAt` characters (counted as
 * Postgres counts them), which progress saves already wrote: an end need not send them again.
 */
export type Finish = {
  status: Exclude<MessageStatus, "streaming">;
  at: number;
  content: string;
  html: string;
  reasoningAt: number;
  reasoning: string;
  error: string | null;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  cachedTokens: number | null;
  cost: number | null;
};

export async function finishMessage(db: Db, id: string, finish: Finish): Promise<Message | undefined> {
  const [message] = await hot(db).finishMessage.execute({ id, ...finish });
  return message;
}

/** Empties an answer to write it again. */
export async function restartMessage(db: Db, id: string, model: string): Promise<Message | undefined> {
  const [message] = await db
    .update(messages)
    .set({
      // Written long ago: without a fresh lease it would look abandoned at once.
      leaseUntil: sql`now() + ${LEASE}`,
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

/** Every answer marked as being written (on the embedded database, one process writes them all). */
export function streamingAnswers(db: Db): Promise<Message[]> {
  return db.select().from(messages).where(eq(messages.status, "streaming"));
}

/** A message by id, whoever's it is (to follow an answer another instance writes). */
export async function getMessage(db: Db, id: string): Promise<Message | undefined> {
  const [row] = await db.select().from(messages).where(eq(messages.id, id));
  return row;
}

/** The id of the answer being written in a chat, if one is. */
export async function streamingAnswerIn(db: Db, chatId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ id: messages.id })
    .from(messages)
    .where(and(eq(messages.chatId, chatId), eq(messages.status, "streaming")));
  return row?.id;
}

/** The answers being written in a person's chats, by any instance. */
export async function streamingAnswersOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .select({ id: messages.id })
    .from(messages)
    .innerJoin(chats, eq(chats.id, messages.chatId))
    .where(and(eq(chats.userId, userId), eq(messages.status, "streaming")));
  return rows.map((r) => r.id);
}

/*
 * Leases. The process writing an answer renews its `lease_until` every few seconds; an answer
 * whose lease ran out has nobody writing it (its process was killed, froze, or lost the
 * database), and any process may end it as interrupted. An answer not yet renewed counts from
 * when it was written.
 */
export const LEASE_SECONDS = 10;
const LEASE = sql.raw(`interval '${LEASE_SECONDS} seconds'`);
const leaseExpired = sql`${messages.status} = 'streaming' and coalesce(${messages.leaseUntil}, ${messages.createdAt} + ${LEASE}) < now()`;

/** Vouches for these answers (those still being written) for another lease. */
export async function renewLeases(db: Db, ids: string[]): Promise<void> {
  await db
    .update(messages)
    .set({ leaseUntil: sql`now() + ${LEASE}` })
    .where(and(inArray(messages.id, ids), eq(messages.status, "streaming")));
}

/** Answers nobody has vouched for within a lease. */
export function expiredAnswers(db: Db): Promise<Message[]> {
  return db.select().from(messages).where(leaseExpired);
}

/**
 * Ends an answer whose lease ran out as interrupted, with the text saved so far; undefined if
 * another process got there first or its writer vouched for it meanwhile.
 */
export async function interruptExpired(db: Db, id: string, html: string): Promise<Message | undefined> {
  const [message] = await db
    .update(messages)
    .set({ status: "interrupted", html, finishedAt: sql`now()` })
    .where(and(eq(messages.id, id), leaseExpired))
    .returning();
  return message;
}

/** A message as the upstream request needs it. */
export type Turn = Pick<Message, "id" | "role" | "content" | "status">;

/**
 * A person's chat, whether an answer in it is being written, and its messages so far: what a
 * retry reads before writing, and what tells why a send was refused.
 */
export async function getOwnChatForSend(
  db: Db,
  userId: string,
  id: unknown,
): Promise<{ chat: Chat; streaming: boolean; history: Turn[] } | undefined> {
  if (!isId(id)) return undefined;
  const [row] = await hot(db).ownChatForSend.execute({ chatId: id, userId });
  if (!row) return undefined;
  return { chat: row.chat, streaming: row.streaming, history: parseHistory(row.history) };
}

/**
 * A chat with what it has cost so far (tokens in and out, and dollars, over its answers), in one
 * query. With `userId` (a person opening the chat) only if it is theirs; without, for the
 * server's own work on a chat it holds (the end of an answer).
 */
export async function chatWithTotals(
  db: Db,
  chatId: unknown,
  userId?: string,
): Promise<{ chat: Chat; totals: { tokens: number; cost: number } } | undefined> {
  if (!isId(chatId)) return undefined;
  const [row] = await (userId === undefined
    ? hot(db).chatWithTotals.execute({ chatId })
    : hot(db).ownChatWithTotals.execute({ chatId, userId }));
  return row && { chat: row.chat, totals: { tokens: Number(row.tokens), cost: Number(row.cost) } };
}

/*
 * Branches. Every message has a parent (the one before it when it was written), so edits and
 * regenerated answers are siblings rather than replacements. The branch shown is the messages
 * marked active: one path from the first message to a leaf. A child is always written after its
 * parent, and ids grow with time, so that path in id order is the conversation, and every query
 * above reads it with a plain `active` filter. Changing branch deactivates the path from the
 * fork on (the active messages from the fork's id on: all of them are below it) and activates
 * another.
 */

/** Deactivates the branch shown from `fromId` on; returns the ids that left the page. */
async function leaveBranch(tx: Db, chatId: string, fromId: string): Promise<string[]> {
  const left = await tx
    .update(messages)
    .set({ active: false })
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true), gte(messages.id, fromId)))
    .returning({ id: messages.id });
  return left.map((m) => m.id).sort();
}

/** The conversation before `id` on the branch shown (what an answer at that point is written from). */
async function historyBefore(tx: Db, chatId: string, id: string): Promise<Turn[]> {
  return tx
    .select({ id: messages.id, role: messages.role, content: messages.content, status: messages.status })
    .from(messages)
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true), lt(messages.id, id)))
    .orderBy(asc(messages.id));
}

/** Spelled out by the caller: drizzle leaves columns unqualified inside sql``. */
const noStreamingIn = (chatId: SQL) =>
  sql`not exists (select 1 from messages s where s.chat_id = ${chatId} and s.status = 'streaming')`;

/**
 * A person's message sent again with new words: a sibling of `edited` with an empty answer,
 * shown instead of `edited` and everything after it (kept, one switch away). Undefined when the
 * message is not a message of the person's on the branch shown, or an answer is being written.
 */
export async function editExchange(
  db: Db,
  userId: string,
  editedId: string,
  content: string,
): Promise<{ left: string[]; user: Message; assistant: Message; history: Turn[] } | undefined> {
  return db.transaction(async (tx) => {
    const [edited] = await tx
      .select({ message: messages })
      .from(messages)
      .innerJoin(chats, eq(chats.id, messages.chatId))
      .where(
        and(
          eq(messages.id, editedId),
          eq(chats.userId, userId),
          eq(messages.role, "user"),
          eq(messages.active, true),
          noStreamingIn(sql`messages.chat_id`),
        ),
      )
      .for("update");
    if (!edited) return undefined;
    const { chatId, parentId } = edited.message;
    const [chat] = await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, chatId)).returning();
    const history = await historyBefore(tx, chatId, editedId);
    const left = await leaveBranch(tx, chatId, editedId);
    const userMessageId = Bun.randomUUIDv7();
    const [user, assistant] = await tx
      .insert(messages)
      .values([
        { id: userMessageId, chatId, parentId, role: "user", content, status: "complete" },
        {
          id: Bun.randomUUIDv7(),
          chatId,
          parentId: userMessageId,
          role: "assistant",
          content: "",
          status: "streaming",
          model: chat!.model,
        },
      ])
      .returning();
    return { left, user: user!, assistant: assistant!, history };
  });
}

/**
 * A new answer in place of a finished one, beside it: the old answer stays, one switch away.
 * Undefined when `answerId` is not a finished answer on the branch shown, or one is being written.
 */
export async function regenerateAnswer(
  db: Db,
  chatId: string,
  answerId: string,
  model: string,
): Promise<{ left: string[]; assistant: Message; history: Turn[] } | undefined> {
  return db.transaction(async (tx) => {
    const [old] = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.id, answerId),
          eq(messages.chatId, chatId),
          eq(messages.role, "assistant"),
          eq(messages.active, true),
          noStreamingIn(sql`${chatId}::uuid`),
        ),
      )
      .for("update");
    if (!old) return undefined;
    await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, chatId));
    const history = await historyBefore(tx, chatId, answerId);
    const left = await leaveBranch(tx, chatId, answerId);
    const [assistant] = await tx
      .insert(messages)
      .values({ chatId, parentId: old.parentId, role: "assistant", content: "", status: "streaming", model })
      .returning();
    return { left, assistant: assistant!, history };
  });
}

/**
 * Shows the branch through `siblingId` instead of the one through its active sibling: from it
 * down, each message's newest child. Undefined when it is not a hidden message of the person's
 * chat, or an answer is being written there.
 */
export async function switchBranch(
  db: Db,
  userId: string,
  siblingId: string,
): Promise<{ chatId: string; left: string[]; shown: Message[] } | undefined> {
  return db.transaction(async (tx) => {
    const [target] = await tx
      .select({ message: messages })
      .from(messages)
      .innerJoin(chats, eq(chats.id, messages.chatId))
      .where(
        and(
          eq(messages.id, siblingId),
          eq(chats.userId, userId),
          eq(messages.active, false),
          noStreamingIn(sql`messages.chat_id`),
        ),
      )
      .for("update");
    if (!target) return undefined;
    const { chatId, parentId } = target.message;
    const [current] = await tx
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          eq(messages.chatId, chatId),
          eq(messages.active, true),
          parentId === null ? sql`${messages.parentId} is null` : eq(messages.parentId, parentId),
        ),
      );
    const left = current ? await leaveBranch(tx, chatId, current.id) : [];
    const shown = await tx
      .update(messages)
      .set({ active: true })
      .where(
        sql`${messages.id} in (
          with recursive chain(id) as (
            select ${siblingId}::uuid
            union all
            select (select c.id from messages c where c.parent_id = chain.id order by c.id desc limit 1)
            from chain where chain.id is not null
          )
          select id from chain where id is not null)`,
      )
      .returning();
    return { chatId, left, shown: shown.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  });
}

/** The sibling positions of the messages given that have siblings (most have none). */
export async function siblingsOf(db: Db, chatId: string, ids: string[]): Promise<Map<string, Siblings>> {
  const found = new Map<string, Siblings>();
  if (!ids.length) return found;
  const rows = await db
    .select({
      id: messages.id,
      siblings: sql<string>`(select string_agg(s.id::text, ',' order by s.id) from messages s
        where s.chat_id = ${chatId} and (s.parent_id = messages.parent_id or (s.parent_id is null and messages.parent_id is null)))`,
    })
    .from(messages)
    .where(and(eq(messages.chatId, chatId), inArray(messages.id, ids)));
  for (const { id, siblings } of rows) {
    const all = siblings.split(",");
    if (all.length < 2) continue;
    const index = all.indexOf(id);
    found.set(id, { index: index + 1, count: all.length, previous: all[index - 1], next: all[index + 1] });
  }
  return found;
}
