import { and, desc, eq, inArray, isNotNull, isNull, ne, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { isId } from "../../db/ids.ts";
import { preparedOnce } from "../../db/prepared.ts";
import { columnsOf, fromDriver, rowsOf } from "../../db/raw-rows.ts";
import { type Chat, chats, projects } from "../../db/schema.ts";
import { deleteUnheld } from "../../files/repo.ts";
import { type ChatSettings, settingsOf } from "../settings.ts";
import type { ChatList } from "../types.ts";

/*
 * Every function a person's request reaches takes their user id and matches it in the same
 * query as the chat id: another person's chat is not found, exactly like one that never existed.
 * Those without a user id (getChat, ...) serve the server's own work on a chat it already holds,
 * such as finishing an answer.
 */

const p = sql.placeholder;

/** Chats, each with whether an answer is being written in it. */
const withGenerating = (db: Db) =>
  db
    .select({
      chat: chats,
      // Spelled out (drizzle leaves columns unqualified in sql``); a hashed subplan over the
      // partial index of streaming messages, read once per query.
      generating: sql<boolean>`chats.id in (select chat_id from messages where messages.status = 'streaming')`,
    })
    .from(chats);

/**
 * A person's listed chats (neither archived nor temporary), most recently active first, and which
 * have an answer being written: the sidebar, one page at a time.
 */
const listed = (db: Db, where: SQL) =>
  withGenerating(db)
    // Spelled as the partial index chats_user_listed_idx is, so that a prepared plan can use it.
    // Chats in a project are listed under it instead (src/projects/, ProjectGroups).
    .where(
      and(
        eq(chats.userId, p("userId")),
        isNull(chats.archivedAt),
        sql`not ${chats.temporary}`,
        isNull(chats.projectId),
        where,
      ),
    )
    .orderBy(desc(chats.updatedAt), desc(chats.id))
    .limit(p("limit"));

/** Chats the sidebar shows at once, and loads at a time as the list is scrolled. */
export const CHAT_LIST_PAGE = 50;
/** Pinned chats all show above the list; a person pinning more than this sees the most recent. */
const MAX_PINNED = 100;

/** Chats with what their answers used in all (tokens and cost). */
const withTotals = (db: Db, where: SQL | undefined) =>
  db
    .select({
      chat: chats,
      tokens: sql<number>`(select coalesce(sum(coalesce(prompt_tokens, 0) + coalesce(completion_tokens, 0)), 0)::int from messages where messages.chat_id = chats.id)`,
      cost: sql<number>`(select coalesce(sum(cost), 0)::float8 from messages where messages.chat_id = chats.id)`,
    })
    .from(chats)
    .where(where);

/** The statements every answer runs (see preparedOnce): its start and its end each read these. */
const hot = preparedOnce((db: Db) => {
  return {
    chatList: listed(db, isNull(chats.pinnedAt)).prepare("chat_list"),
    // The page after a chat: its time is read in SQL, where it has microseconds (a JavaScript
    // Date would round it, and skip or repeat a chat of the same millisecond).
    chatListAfter: listed(
      db,
      sql`${chats.pinnedAt} is null and (${chats.updatedAt}, ${chats.id}) < (select c.updated_at, c.id from chats c where c.id = ${p("after")} and c.user_id = ${p("userId")})`,
    ).prepare("chat_list_after"),
    // Pinned chats head the first page, the most recently pinned first.
    pinned: withGenerating(db)
      .where(
        and(
          eq(chats.userId, p("userId")),
          isNotNull(chats.pinnedAt),
          isNull(chats.archivedAt),
          sql`not ${chats.temporary}`,
        ),
      )
      .orderBy(desc(chats.pinnedAt), desc(chats.id))
      .limit(MAX_PINNED)
      .prepare("chat_list_pinned"),
    chatWithTotals: withTotals(db, eq(chats.id, p("chatId"))).prepare("chat_with_totals"),
    ownChatWithTotals: withTotals(db, and(eq(chats.id, p("chatId")), eq(chats.userId, p("userId")))).prepare(
      "own_chat_with_totals",
    ),
  };
});

/**
 * A page of a person's chat list (the first, or the one after the chat `after`), and which of
 * them have an answer being written: one query, run twice per answer (when it starts and when it
 * ends), with the pinned chats on the first. `more` is the chat the next page follows, if any.
 */
export async function chatList(db: Db, userId: string, after?: string): Promise<ChatList> {
  const limit = CHAT_LIST_PAGE + 1;
  const rows =
    after === undefined
      ? await hot(db).chatList.execute({ userId, limit })
      : isId(after)
        ? await hot(db).chatListAfter.execute({ userId, limit, after })
        : [];
  const page = rows.slice(0, CHAT_LIST_PAGE);
  const pinned = after === undefined ? await hot(db).pinned.execute({ userId }) : [];
  return {
    pinned: pinned.map((r) => r.chat),
    chats: page.map((r) => r.chat),
    generating: new Set([...pinned, ...page].filter((r) => r.generating).map((r) => r.chat.id)),
    more: rows.length > CHAT_LIST_PAGE ? page.at(-1)!.chat.id : undefined,
  };
}

/**
 * chatList's first page for many people in one statement (the sidebars pushed after a burst of
 * answers started or ended: three statements a person before), in the order asked. The same
 * conditions and order as `listed` and `pinned` above, which pages still read one person at a time.
 */
export async function chatLists(db: Db, userIds: string[]): Promise<ChatList[]> {
  const listedHere = sql.raw("c.user_id = u.id and c.archived_at is null and not c.temporary");
  const result = await db.execute(sql`
    select u.i as "askedAt", x.part, ${columnsOf(chats, "x")},
      x.id in (select chat_id from messages where messages.status = 'streaming') as generating
    from (select e.value::uuid as id, e.i from json_array_elements_text(${JSON.stringify(userIds)}::json)
      with ordinality as e(value, i)) u
    cross join lateral (
      (select c.*, 'list'::text as part, row_number() over (order by c.updated_at desc, c.id desc) as n from chats c
        where ${listedHere} and c.project_id is null and c.pinned_at is null
        order by c.updated_at desc, c.id desc limit ${CHAT_LIST_PAGE + 1})
      union all
      (select c.*, 'pinned'::text as part, row_number() over (order by c.pinned_at desc, c.id desc) as n from chats c
        where ${listedHere} and c.pinned_at is not null
        order by c.pinned_at desc, c.id desc limit ${MAX_PINNED})
    ) x
    order by u.i, x.part, x.n`);
  const lists = userIds.map((): { pinned: Chat[]; rows: Chat[]; generating: Set<string> } => ({
    pinned: [],
    rows: [],
    generating: new Set(),
  }));
  for (const row of rowsOf(result)) {
    const list = lists[Number(row.askedAt) - 1]!;
    const chat = fromDriver<Chat>(chats, row);
    if (row.part === "pinned") list.pinned.push(chat);
    else list.rows.push(chat);
    if (row.generating) list.generating.add(chat.id);
  }
  return lists.map(({ pinned, rows, generating }) => {
    const page = rows.slice(0, CHAT_LIST_PAGE);
    const shown = new Set([...pinned, ...page].map((c) => c.id));
    return {
      pinned,
      chats: page,
      generating: new Set([...generating].filter((id) => shown.has(id))),
      more: rows.length > CHAT_LIST_PAGE ? page.at(-1)!.id : undefined,
    };
  });
}

/** Chats a project's group in the sidebar shows; its page lists them all. */
export const PROJECT_GROUP_SIZE = 10;

/**
 * A project's newest listed chats for its sidebar group, and which have an answer being written.
 * Pinned ones are left to the Pinned section, as they are from the list of chats in no project.
 * Empty for a project that is not this person's (the chats are matched by person too).
 */
export async function projectChatList(db: Db, userId: string, projectId: string): Promise<Omit<ChatList, "pinned">> {
  if (!isId(projectId)) return { chats: [], generating: new Set() };
  const rows = await withGenerating(db)
    .where(
      and(
        eq(chats.userId, userId),
        eq(chats.projectId, projectId),
        isNull(chats.archivedAt),
        sql`not ${chats.temporary}`,
        isNull(chats.pinnedAt),
      ),
    )
    .orderBy(desc(chats.updatedAt), desc(chats.id))
    .limit(PROJECT_GROUP_SIZE + 1);
  const page = rows.slice(0, PROJECT_GROUP_SIZE);
  return {
    chats: page.map((r) => r.chat),
    generating: new Set(page.filter((r) => r.generating).map((r) => r.chat.id)),
    more: rows.length > PROJECT_GROUP_SIZE ? page.at(-1)!.chat.id : undefined,
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
  values: {
    userId: string;
    title: string;
    model: string;
    temporary?: boolean;
    projectId?: string;
    webSearch?: boolean;
  } & Partial<ChatSettings>,
): Promise<Chat> {
  const [chat] = await db.insert(chats).values(values).returning();
  return chat!;
}

/** The chat's Search the web switch, written only when it changes (a send usually leaves it as it was). */
export async function setWebSearch(db: Db, userId: string, id: string, on: boolean): Promise<void> {
  await db
    .update(chats)
    .set({ webSearch: on })
    .where(and(eq(chats.id, id), eq(chats.userId, userId), ne(chats.webSearch, on)));
}

export async function updateChat(
  db: Db,
  userId: string,
  id: string,
  values: Partial<Pick<Chat, "title" | "model" | "pinnedAt" | "archivedAt">>,
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

/** What an answer about to be written needs of its chat (see chatsSettings). */
const settingsFields = {
  chatId: chats.id,
  systemPrompt: chats.systemPrompt,
  temperature: chats.temperature,
  maxTokens: chats.maxTokens,
  reasoningEffort: chats.reasoningEffort,
  pdfEngine: chats.pdfEngine,
  webSearch: chats.webSearch,
  projectId: projects.id,
  projectInstructions: projects.systemPrompt,
  // Here rather than a statement of its own on every send: most chats have no MCP server.
  hasTools: sql<boolean>`exists (select 1 from chat_mcp_servers s where s.chat_id = "chats"."id")`,
  // Likewise: most chats carry no file, and their sends then read none.
  hasFiles: sql<boolean>`exists (select 1 from message_files f join messages m on m.id = f.message_id where m.chat_id = "chats"."id")`,
};

export type SettingsForAnswer = ChatSettings & {
  webSearch: boolean;
  projectId: string | null;
  projectInstructions: string | null;
  hasTools: boolean;
  hasFiles: boolean;
};

/**
 * Chats' system prompts and parameters, as answers about to be written need them, their projects
 * and the projects' instructions (null outside one, or when the project has none), and whether
 * they have MCP servers turned on: for many chats in one statement (the sends of a moment), in
 * the order asked (undefined for a chat that is gone).
 */
export async function chatsSettings(db: Db, chatIds: string[]): Promise<(SettingsForAnswer | undefined)[]> {
  const rows = await db
    .select(settingsFields)
    .from(chats)
    .leftJoin(projects, eq(projects.id, chats.projectId))
    .where(inArray(chats.id, chatIds));
  const byId = new Map(rows.map(({ chatId, ...row }) => [chatId, row]));
  return chatIds.map((id) => byId.get(id));
}

/**
 * Deletes a person's chat, its messages and the files attached to them (or to its shared
 * snapshots) that nothing else holds: another chat of theirs, another chat's snapshot. The files
 * go after the chat, in statements of their own (see deleteUnheld): a file the person is
 * attaching elsewhere at that moment is kept. Should that second step fail, the files are left
 * unheld, and the sweep of unsent files deletes them later.
 */
export async function deleteChat(db: Db, userId: string, id: string): Promise<boolean> {
  if (!isId(id)) return false;
  const held = await heldFiles(db, [id]);
  const deleted = await db
    .delete(chats)
    .where(and(eq(chats.id, id), eq(chats.userId, userId)))
    .returning({ id: chats.id, temporary: chats.temporary });
  if (!deleted.length) return false;
  if (deleted[0]!.temporary) await forgetBusEvents(db, [id]);
  // The chat is gone whatever happens here: files left behind are the sweep's.
  await deleteUnheld(db, userId, held).catch(() => {});
  return true;
}

/** The files attached to these chats' messages or to their shared snapshots. */
export async function heldFiles(db: Pick<Db, "execute">, chatIds: string[]): Promise<string[]> {
  if (!chatIds.length) return [];
  const ids = sql`(${sql.join(
    chatIds.map((id) => sql`${id}::uuid`),
    sql`, `,
  )})`;
  const held = await db.execute(sql`
    select mf.file_id as id from message_files mf join messages m on m.id = mf.message_id where m.chat_id in ${ids}
    union
    select sf.file_id from share_files sf join shares s on s.id = sf.share_id where s.chat_id in ${ids}`);
  return rowsOf(held).map((r) => r.id as string);
}

/**
 * Deletes the live events between instances (bus_events: a finished answer's HTML, kept a few
 * minutes) that carry these chats: a temporary chat leaves nothing of itself behind. Each such
 * event names its chat (its topic or chatId), and ids are UUIDs, so a plain substring match finds them.
 */
export async function forgetBusEvents(db: Pick<Db, "execute">, chatIds: string[]): Promise<void> {
  for (const id of chatIds) await db.execute(sql`delete from bus_events where strpos(payload, ${id}) > 0`);
}

/**
 * A chat with what it has cost so far (tokens in and out, and dollars, over its answers), in one
 * query. With `userId` (a person opening the chat) only if it is theirs; without, for the
 * server's own work on a chat it holds (the end of an answer).
 */
export type ChatWithTotals = { chat: Chat; totals: { tokens: number; cost: number } };

export async function chatWithTotals(db: Db, chatId: unknown, userId?: string): Promise<ChatWithTotals | undefined> {
  if (!isId(chatId)) return undefined;
  const [row] = await (userId === undefined
    ? hot(db).chatWithTotals.execute({ chatId })
    : hot(db).ownChatWithTotals.execute({ chatId, userId }));
  return row && totalled(row);
}

const totalled = (row: { chat: Chat; tokens: number; cost: number }): ChatWithTotals => ({
  chat: row.chat,
  totals: { tokens: Number(row.tokens), cost: Number(row.cost) },
});

/** chatWithTotals for several chats in one statement (the answers that end in the same moment), in their order. */
export async function chatsWithTotals(db: Db, chatIds: string[]): Promise<(ChatWithTotals | undefined)[]> {
  const rows = await withTotals(db, inArray(chats.id, chatIds));
  const byId = new Map(rows.map((row) => [row.chat.id, totalled(row)]));
  return chatIds.map((id) => byId.get(id));
}

/** A person's archived chats, the most recently archived first, a page at a time (`before`: the page's last). */
export async function archivedChats(db: Db, userId: string, before?: string, limit = 50) {
  const after = isId(before)
    ? sql`(${chats.archivedAt}, ${chats.id}) < (select c.archived_at, c.id from chats c where c.id = ${before} and c.user_id = ${userId})`
    : undefined;
  const rows = await db
    .select()
    .from(chats)
    .where(and(eq(chats.userId, userId), isNotNull(chats.archivedAt), after))
    .orderBy(desc(chats.archivedAt), desc(chats.id))
    .limit(limit + 1);
  return { chats: rows.slice(0, limit), more: rows.length > limit ? rows[limit - 1]!.id : undefined };
}
