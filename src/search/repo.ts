import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { rowsOf } from "../db/raw-rows.ts";
import { MATCH_END, MATCH_START, type SearchHit } from "./types.ts";

const HEADLINE = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`;
const TITLE_HEADLINE = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, HighlightAll=true`;

/**
 * The words typed so far as a tsquery: every word must match, the last as a prefix (results
 * come as the person types). Only letters and digits reach to_tsquery, so no input can be
 * tsquery syntax; undefined when nothing searchable was typed.
 */
export function toTsquery(input: string): string | undefined {
  const words = input
    .normalize("NFKC")
    .toLowerCase()
    .match(/[\p{L}\p{N}]+/gu);
  if (!words) return undefined;
  return words
    .slice(0, 16)
    .map((word, i, all) => (i === all.length - 1 ? `${word}:*` : word))
    .join(" & ");
}

/** Before the name of the attachment a result matched in, where the message's own text did not. */
const FILE_MARK = "📎 ";

/** Characters no text uses (Unicode's private use), standing in for < and > while a headline is made. */
const STAND_INS = "\uE000\uE001";

/**
 * `text` with the words matching the query marked. Its angle brackets are stood in for while
 * Postgres's parser reads it, which otherwise takes them for HTML tags (and a script's inside for
 * nothing), so that the words inside are marked, as migration 0022 indexes them; then put back.
 */
const headline = (text: SQL, options: string) =>
  sql`translate(ts_headline('english', translate(${text}, '<>', ${STAND_INS}), q.query, ${options}), ${STAND_INS}, '<>')`;

/** Whether one of the message's (by id) attachments matches q.query: its name or its text. */
const attachmentMatches = (
  messageId: SQL,
) => sql`exists (select 1 from message_files mf join files f on f.id = mf.file_id
  where mf.message_id = ${messageId} and f.search @@ q.query)`;

/** More matches than this and a word counts as common (see searchChats). */
const SPARSE = 2000;

/**
 * A person's chats whose title or finished messages (on the branch each chat shows) match, or a
 * message's attachment by its name or text (migration 0012), most recently active first, each
 * with its newest matching message (migration 0004 made the indexes).
 *
 * Most words are in few messages: the GIN index finds them all, and each chat's newest is
 * picked. A word in thousands of messages would make that read most of the table (measured:
 * 130 ms on Postgres, 300 ms on PGlite, for a word in 86,000 of 100,000 messages), so past
 * SPARSE matches the chats are walked newest first instead, each checking its newest 200
 * messages, which finds 20 chats within a few hundred rows. The matches already found are kept
 * too, so a chat whose only matches are older than that is still listed if it was among them
 * (a chat can be missed only then: a word in over 2,000 of the person's messages, matched in
 * that chat only beyond its newest 200). Only the 20 results get a headline, the costly part.
 */
export async function searchChats(
  database: Database,
  userId: string,
  tsquery: string,
  limit: number,
  projectId?: string,
): Promise<SearchHit[]> {
  const inProject = projectId ? sql`and c.project_id = ${projectId}` : sql``;
  const matches = await database.rows<{ chatId: string; id: string }>(sql`
    with q as not materialized (select to_tsquery('english', ${tsquery}) as query)
    (select m.chat_id as "chatId", m.id from messages m join chats c on c.id = m.chat_id, q
    where c.user_id = ${userId} and m.active and m.search @@ q.query
    limit ${SPARSE + 1})
    union all
    (select m.chat_id, m.id from files f join message_files mf on mf.file_id = f.id
      join messages m on m.id = mf.message_id, q
    where f.user_id = ${userId} and m.active and m.status <> 'streaming' and f.search @@ q.query
    limit ${SPARSE + 1})`);
  // UUIDv7 ids sort as they were made: the greatest is the newest.
  const newest = new Map<string, string>();
  for (const { chatId, id } of matches) if (!(newest.get(chatId)! >= id)) newest.set(chatId, id);
  const known = JSON.stringify([...newest].map(([chat, message]) => ({ chat, message })));
  const common = matches.length > SPARSE;
  const walk = common
    ? sql`left join lateral (
        select r.id from (select m.id, m.search from messages m where m.chat_id = c.id and m.active order by m.id desc limit 200) r
        where r.search @@ q.query or ${attachmentMatches(sql`r.id`)} limit 1) walked on true`
    : sql`left join (select null::uuid as id) walked on true`;
  return database.rows<SearchHit>(sql`
    with q as not materialized (select to_tsquery('english', ${tsquery}) as query),
    known as (select * from json_to_recordset(${known}::json) as k(chat uuid, message uuid)),
    found as (
      select c.id, c.title, c.updated_at, c.archived_at is not null as archived,
        coalesce(walked.id, known.message) as message_id
      from chats c cross join q
      left join known on known.chat = c.id
      ${walk}
      where c.user_id = ${userId} and not c.temporary ${inProject} and (known.message is not null or walked.id is not null or c.search @@ q.query)
      order by c.updated_at desc nulls last, c.id desc nulls last
      limit ${limit}
    )
    select found.id as "chatId", found.title, found.archived,
      ${headline(sql`found.title`, TITLE_HEADLINE)} as "titleMarked",
      found.message_id as "messageId",
      coalesce(
        (select ${headline(sql`left(m.content, 20000)`, HEADLINE)} from messages m
          where m.id = found.message_id and m.search @@ q.query),
        (select ${FILE_MARK} || f.name || case when f.type = 'text/plain'
            then ': ' || ${headline(sql`left(file_text_head(f.bytes, 80000), 20000)`, HEADLINE)} else '' end
          from message_files mf join files f on f.id = mf.file_id
          where mf.message_id = found.message_id and f.search @@ q.query order by mf.position limit 1),
        (select ${headline(sql`left(m.content, 20000)`, HEADLINE)} from messages m where m.id = found.message_id)
      ) as "snippetMarked"
    from found, q
    order by found.updated_at desc, found.id desc`);
}

/**
 * Indexes finished messages whose words are not indexed yet (migration 0021): as the
 * generated column of 0004 did, the first 100,000 characters, angle brackets read as spaces
 * (0022: else Postgres leaves out what it takes for HTML tags and scripts). `person`: only their chats,
 * waiting for any of their messages another statement is indexing, so that a search after it
 * sees every message finished before it. Without, up to `most` of anyone's, skipping those
 * being indexed elsewhere (another instance). Answers how many it indexed. The lock is the one
 * the update takes anyway: a stronger one would hold up a send whose question names the answer
 * as its parent (the foreign key's check takes a share lock on it).
 */
export async function indexWaiting(database: Database, opts: { person: string } | { most: number }): Promise<number> {
  const scope: SQL =
    "person" in opts
      ? sql`and w.chat_id in (select id from chats where user_id = ${opts.person}) for no key update`
      : sql`limit ${opts.most} for no key update skip locked`;
  const result = await database.db.execute(sql`
    update messages m set search = to_tsvector('english'::regconfig, translate(left(m.content, 100000), '<>', '  '))
    where m.id in (select w.id from messages w where w.search is null and w.status <> 'streaming' ${scope})
    returning m.id`);
  return rowsOf(result).length;
}
