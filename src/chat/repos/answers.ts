import { and, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client.ts";
import { preparedOnce } from "../../db/prepared.ts";
import { columnsOf, fromDriver, rowsOf } from "../../db/raw-rows.ts";
import {
  chats,
  type Message,
  type MessageStatus,
  messageAnnotations,
  messageFiles,
  messages,
  type PdfEngine,
} from "../../db/schema.ts";
import type { FileAnnotation } from "../../llm/annotations.ts";
import type { Source } from "../../llm/citations.ts";

/*
 * Answers being written: their progress and end, and the leases that tell a live writer from
 * a dead one.
 */

const p = sql.placeholder;

/**
 * A text column's first `at` characters (what earlier saves wrote) followed by `rest`: a save
 * that reached the database yet reported a failure, done again, does not double the text.
 */
const afterSaved = (column: AnyPgColumn, at: SQL, rest: SQL) => sql`left(coalesce(${column}, ''), ${at}) || ${rest}`;

/** The statement every answer's end runs (see preparedOnce). */
const hot = preparedOnce((db: Db) => ({
  finishMessage: db
    .update(messages)
    .set({
      status: sql`${p("status")}`,
      content: afterSaved(messages.content, sql`${p("at")}::int`, sql`${p("content")}`),
      html: sql`${p("html")}`,
      reasoning: sql`nullif(${afterSaved(messages.reasoning, sql`${p("reasoningAt")}::int`, sql`${p("reasoning")}`)}, '')`,
      thinkingMs: sql`${p("thinkingMs")}::int`,
      error: sql`${p("error")}`,
      finishReason: sql`${p("finishReason")}`,
      promptTokens: sql`${p("promptTokens")}::int`,
      completionTokens: sql`${p("completionTokens")}::int`,
      reasoningTokens: sql`${p("reasoningTokens")}::int`,
      cachedTokens: sql`${p("cachedTokens")}::int`,
      cost: sql`${p("cost")}::float8`,
      // JSON text: both drivers pass a string parameter alike.
      sources: sql`${p("sources")}::jsonb`,
      finishedAt: sql`now()`,
    })
    .where(eq(messages.id, p("id")))
    .returning()
    .prepare("finish_message"),
}));

/**
 * Adds what every answer being written gained since its last save, in one statement: at a
 * thousand answers that is one write a second, not a thousand. A finished answer is never touched.
 */
export async function saveProgress(
  db: Db,
  answers: {
    id: string;
    at: number;
    content: string;
    reasoningAt: number;
    reasoning: string;
    thinkingMs: number | null;
  }[],
): Promise<void> {
  if (!answers.length) return;
  // One JSON parameter: both drivers pass it the same way, whatever the number of answers.
  await db.execute(sql`
    update messages
    set content = ${afterSaved(messages.content, sql`v.at`, sql`v.content`)},
        reasoning = nullif(${afterSaved(messages.reasoning, sql`v."reasoningAt"`, sql`v.reasoning`)}, ''),
        thinking_ms = coalesce(v."thinkingMs", messages.thinking_ms)
    from json_to_recordset(${JSON.stringify(answers)}::json)
      as v(id uuid, at int, content text, "reasoningAt" int, reasoning text, "thinkingMs" int)
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
  thinkingMs: number | null;
  error: string | null;
  finishReason: string | null;
  promptTokens: number | null;
  completionTokens: number | null;
  reasoningTokens: number | null;
  cachedTokens: number | null;
  cost: number | null;
  sources: Source[] | null;
};

export async function finishMessage(db: Db, id: string, finish: Finish): Promise<Message | undefined> {
  const sources = finish.sources && JSON.stringify(finish.sources);
  const [message] = await hot(db).finishMessage.execute({ id, ...finish, sources });
  return message;
}

/**
 * finishMessage for the answers that end in the same moment, in one statement: at a thousand
 * answers ending together, a statement each queued for the pool and the last waited a second
 * (docs/performance.md). Each answer is written exactly as finishMessage writes it alone.
 */
export async function finishMessages(db: Db, ends: (Finish & { id: string })[]): Promise<(Message | undefined)[]> {
  const rows = rowsOf(
    await db.execute(sql`
      update messages
      set status = v.status::message_status,
          content = ${afterSaved(messages.content, sql`v.at`, sql`v.content`)},
          html = v.html,
          reasoning = nullif(${afterSaved(messages.reasoning, sql`v."reasoningAt"`, sql`v.reasoning`)}, ''),
          thinking_ms = v."thinkingMs",
          error = v.error,
          finish_reason = v."finishReason",
          prompt_tokens = v."promptTokens",
          completion_tokens = v."completionTokens",
          reasoning_tokens = v."reasoningTokens",
          cached_tokens = v."cachedTokens",
          cost = v.cost,
          sources = v.sources,
          finished_at = now()
      from json_to_recordset(${JSON.stringify(ends)}::json)
        as v(id uuid, status text, at int, content text, html text, "reasoningAt" int, reasoning text,
             "thinkingMs" int, error text, "finishReason" text, "promptTokens" int, "completionTokens" int,
             "reasoningTokens" int, "cachedTokens" int, cost float8, sources jsonb)
      where messages.id = v.id
      returning ${columnsOf(messages, "messages", ["html"])}`),
  );
  // Each answer's HTML is what it was just given: not read back (500 ends together: ~2 MB less, 5-35 ms).
  const byId = new Map(rows.map((row) => [row.id as string, fromDriver<Message>(messages, row)]));
  return ends.map((end) => {
    const message = byId.get(end.id);
    return message && { ...message, html: end.html };
  });
}

/** Keeps what OpenRouter's file-parser read for an answer (an end saved again replaces it). */
export async function saveAnnotations(
  db: Db,
  messageId: string,
  parsed: { engine: PdfEngine; files: FileAnnotation[] },
): Promise<void> {
  await db
    .insert(messageAnnotations)
    .values({ messageId, ...parsed })
    .onConflictDoUpdate({ target: messageAnnotations.messageId, set: parsed });
}

/** What the file-parser read for each of these answers that has a parse kept, by answer id. */
export async function annotationsOf(
  db: Db,
  messageIds: string[],
): Promise<Map<string, { engine: PdfEngine; files: FileAnnotation[] }>> {
  if (!messageIds.length) return new Map();
  const rows = await db.select().from(messageAnnotations).where(inArray(messageAnnotations.messageId, messageIds));
  return new Map(rows.map(({ messageId, ...parsed }) => [messageId, parsed]));
}

/** Empties an answer to write it again: its words, the images it had and the parses of its request. */
export function restartMessage(db: Db, id: string, model: string): Promise<Message | undefined> {
  return db.transaction(async (tx) => {
    const [message] = await tx
      .update(messages)
      .set({
        // Written long ago: without a fresh lease it would look abandoned at once.
        leaseUntil: sql`now() + ${LEASE}`,
        content: "",
        html: null,
        reasoning: null,
        thinkingMs: null,
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
    if (message) {
      await tx.delete(messageFiles).where(eq(messageFiles.messageId, id));
      await tx.delete(messageAnnotations).where(eq(messageAnnotations.messageId, id));
    }
    return message;
  });
}

/** Every answer marked as being written (on the embedded database, one process writes them all). */
export function streamingAnswers(db: Db): Promise<Message[]> {
  return db.select().from(messages).where(eq(messages.status, "streaming"));
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

/**
 * Vouches for these answers (those still being written) for another lease. An answer whose row
 * is locked at that moment (its end being written) is skipped, not waited for: waiting, a renewal
 * of many answers and a batch of ends holding some of them each waited for the other, until
 * Postgres ended one as a deadlock a second later (seen with 1,000 answers ending together).
 */
export async function renewLeases(db: Db, ids: string[]): Promise<void> {
  const free = db
    .select({ id: messages.id })
    .from(messages)
    .where(and(inArray(messages.id, ids), eq(messages.status, "streaming")))
    .for("update", { skipLocked: true });
  await db
    .update(messages)
    .set({ leaseUntil: sql`now() + ${LEASE}` })
    .where(inArray(messages.id, free));
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
