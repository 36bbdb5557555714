import { and, eq, getTableColumns, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { rootDbError } from "../../db/errors.ts";
import { isId } from "../../db/ids.ts";
import { preparedOnce } from "../../db/prepared.ts";
import { columnsOf, fromDriver, rowsOf } from "../../db/raw-rows.ts";
import { type Chat, chats, type Message, messages } from "../../db/schema.ts";
import { noLimitApplies } from "../../teams/spending.ts";

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
    if (rootDbError(e).code === NOT_NULL_VIOLATION) return undefined;
    throw e;
  }
  const { history, ...user } = inserted.find((m) => m.id === userMessageId)!;
  const { history: _, ...assistant } = inserted.find((m) => m.id === answerId)!;
  return { user, assistant, history: parseHistory(history) };
}

const NOT_NULL_VIOLATION = "23502";

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

type Asked = { userId: string; chatId: string; content: string };
type Exchange = { user: Message; assistant: Message; history: Turn[] };

/**
 * insertExchange for many sends in one statement and one commit (group commit): what each send
 * gets is what insertExchange would give it, undefined for a chat that is not that person's or
 * has an answer being written (or is sent to twice in the batch), without refusing the others.
 * The chats are locked in id order, so two batches never wait on each other in a cycle.
 */
export async function insertExchanges(db: Db, asked: Asked[]): Promise<(Exchange | undefined)[]> {
  const at = new Date().toISOString();
  const rows = asked.map((a) => ({
    chatId: a.chatId,
    userId: a.userId,
    content: a.content,
    // Ids are made here, in this order (Bun's UUIDv7 is monotonic): each answer sorts after its question.
    questionId: Bun.randomUUIDv7(),
    answerId: Bun.randomUUIDv7(),
  }));
  const result = await db.execute(sql`
    with asked as (
      select * from json_to_recordset(${JSON.stringify(rows)}::json)
        as a("chatId" uuid, "userId" uuid, content text, "questionId" uuid, "answerId" uuid)
    ), v as (
      -- The sends to a chat of the sender's own, one per chat (the first): another person's
      -- send to the same chat in the same batch must not ride on its owner's.
      select distinct on (a."chatId") a.* from asked a join chats c on c.id = a."chatId" and c.user_id = a."userId"
      order by a."chatId", a."questionId"
    ), locked as (
      -- Each send's own columns ride along to the insert, so it reads touched alone: joined
      -- back to v, both sides of a few hundred rows were matched pair by pair (the planner
      -- cannot know their size), a third of the statement's time.
      select c.id, v."questionId", v."answerId", v.content from chats c join v on v."chatId" = c.id
      where not exists (select 1 from messages s where s.chat_id = c.id and s.status = 'streaming')
      order by c.id
      for update of c
    ), touched as (
      update chats set updated_at = ${at}::timestamptz
      from locked where chats.id = locked.id
      returning chats.id, chats.model, locked."questionId", locked."answerId", locked.content
    ), inserted as (
      insert into messages (id, chat_id, parent_id, role, content, status, model)
      select t."questionId", t.id,
             (select p.id from messages p where p.chat_id = t.id and p.active order by p.id desc limit 1),
             'user'::message_role, t.content, 'complete'::message_status, null
        from touched t
      union all
      select t."answerId", t.id, t."questionId", 'assistant'::message_role, '', 'streaming'::message_status, t.model
        from touched t
      returning *
    )
    -- The history once per send, with its question (the answer's row would repeat it).
    select ${columnsOf(messages, "x")},
           case when x.role = 'user' then ${historyOf(sql`x.chat_id`)} end as history
      from inserted x`);
  // The subquery reads the messages as they were before the statement: the history each answer follows.
  const found = new Map(
    rowsOf(result).map((row) => [
      row.id as string,
      { ...fromDriver<Message>(messages, row), history: row.history as string },
    ]),
  );
  return rows.map((r) => {
    const question = found.get(r.questionId);
    const answer = found.get(r.answerId);
    if (!question || !answer) return undefined;
    const { history, ...user } = question;
    const { history: _, ...assistant } = answer;
    return { user, assistant, history: parseHistory(history) };
  });
}

/**
 * For many sends at once, in one statement: each person's chat (undefined when not theirs), the
 * allow-lists of their groups (see teams/access.ts allowedBy), and whether no spending limit
 * applies to them (teams/spending.ts noLimitApplies), in the order asked.
 */
export async function ownChatsForSend(
  db: Db,
  asked: { userId: string; chatId: string }[],
): Promise<{ chat: Chat | undefined; lists: (string[] | null)[]; unlimited: boolean }[]> {
  const result = await db.execute(sql`
    with a as (
      select * from json_to_recordset(${JSON.stringify(asked.map((x, i) => ({ i, ...x })))}::json)
        as a(i int, "userId" uuid, "chatId" uuid)
    )
    select a.i as "askedAt", c.id is not null as "found", ${columnsOf(chats, "c")},
      (select coalesce(json_agg(g.allowed_models), '[]')::text from group_members gm
        join groups g on g.id = gm.group_id where gm.user_id = a."userId") as "lists",
      (u.id is not null and ${noLimitApplies}) as "unlimited"
    from a left join chats c on c.id = a."chatId" and c.user_id = a."userId"
    left join users u on u.id = a."userId"`);
  const out: { chat: Chat | undefined; lists: (string[] | null)[]; unlimited: boolean }[] = [];
  for (const row of rowsOf(result)) {
    out[Number(row.askedAt)] = {
      chat: row.found ? fromDriver<Chat>(chats, row) : undefined,
      lists: JSON.parse(row.lists as string),
      unlimited: row.unlimited === true,
    };
  }
  return out;
}
