import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { isId } from "../../db/ids.ts";
import { preparedOnce } from "../../db/prepared.ts";
import { type Chat, chats, type Message, messages } from "../../db/schema.ts";

const p = sql.placeholder;

/** A message as the upstream request needs it. */
export type Turn = Pick<Message, "id" | "role" | "content" | "status">;

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

/** The statements every send runs (see preparedOnce). */
const hot = preparedOnce((db: Db) => {
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
  };
});

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
