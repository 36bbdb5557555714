import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";

/** Where ts_headline marks a match; control characters, so no text can fake one. */
export const MATCH_START = "\u0001";
export const MATCH_END = "\u0002";
const HEADLINE = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=24, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "`;
const TITLE_HEADLINE = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, HighlightAll=true`;

export type SearchHit = {
  chatId: string;
  title: string;
  /** The title with its matches marked (MATCH_START / MATCH_END). */
  titleMarked: string;
  /** The newest matching message in the chat, if the match is not only in the title. */
  messageId: string | null;
  /** Around the matches in that message, marked the same way. */
  snippetMarked: string | null;
};

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

/**
 * A person's chats whose title or finished messages match, most recently active first, each
 * with the newest matching message. The GIN indexes find the matches (migration 0004); only
 * the results shown get a headline, the costly part.
 */
export function searchChats(database: Database, userId: string, tsquery: string, limit: number) {
  return database.rows<SearchHit>(sql`
    with q as (select to_tsquery('english', ${tsquery}) as query),
    hits as (
      select distinct on (m.chat_id) m.chat_id, m.id, m.content
      from messages m join chats c on c.id = m.chat_id, q
      where c.user_id = ${userId} and m.search @@ q.query
      order by m.chat_id, m.id desc
    ),
    found as (
      select c.id, c.title, c.updated_at, h.id as message_id, h.content
      from chats c left join hits h on h.chat_id = c.id, q
      where c.user_id = ${userId} and (h.id is not null or c.search @@ q.query)
      order by c.updated_at desc, c.id desc
      limit ${limit}
    )
    select found.id as "chatId", found.title,
      ts_headline('english', found.title, q.query, ${TITLE_HEADLINE}) as "titleMarked",
      found.message_id as "messageId",
      case when found.message_id is null then null
        else ts_headline('english', left(found.content, 20000), q.query, ${HEADLINE}) end as "snippetMarked"
    from found, q
    order by found.updated_at desc, found.id desc`);
}
