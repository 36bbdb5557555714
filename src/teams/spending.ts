import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { perTickOn } from "../db/per-tick.ts";
import { rowsOf } from "../db/raw-rows.ts";
import { type UsageKind, usage } from "../db/schema.ts";
import { limitsFor, SITE_LIMITS_SETTING, spentBy, spentBySite } from "./limits-repo.ts";
import { type Period, periods, refusalSentence } from "./limits-words.ts";

/**
 * The contract every path that spends money upstream follows (answers, retries, regenerations,
 * titles, /v1): reserve before the request goes, settle when its usage arrives. (A send whose
 * own read found no limit for its person records its row alongside the request instead:
 * recordAlongside.)
 *
 * The database is the only counter, so several instances sharing one Postgres count the same:
 * reserve reads what was spent and writes the request's row in one transaction, under an advisory
 * lock per person (and one for the whole site while a site cap is set). Two requests for one
 * person take turns, and the second sees the first's estimate. A request is refused only once
 * the spending has reached the limit, so at most one answer in flight crosses it; that answer
 * finishes (no text is lost) and the next is refused.
 */

/** A refusal a person reads: which limit, how much, and when it resets. */
export class SpendingRefused extends Error {}

export type Spend = {
  userId: string;
  kind: UsageKind;
  model: string;
  /** In US dollars: the most the request is expected to cost (the model's prices × the request's size). */
  estimate: number;
  messageId?: string;
  apiKeyId?: string;
};

// Advisory lock keys: a class of our own (the first number), then the person (or 0 for the site).
const PERSON_LOCK = 7_240_022;
const SITE_LOCK = 7_240_023;

/**
 * Writes the request's usage row, counted from now on; throws SpendingRefused when over a limit.
 * Returns the row's id. `limited`: the caller already read that a limit applies (a send's read),
 * so the try for people without one is skipped.
 */
export async function reserve(db: Db, spend: Spend, { limited = false } = {}): Promise<string> {
  const row = { ...spend, estimate: Math.max(0, spend.estimate) };
  // Most people have no limit at all: their row in one statement and one commit (on every send).
  const unlimited = limited ? undefined : await writeIfUnlimited(db, row);
  if (unlimited) return unlimited;
  return db.transaction(async (tx) => {
    const limits = await limitsFor(tx, spend.userId);
    const own = limits?.own;
    const cap = limits?.site.siteMonth ?? null;
    // Nobody limits this person: no lock, no sum, only the row (which later checks count).
    if (own && (own.day !== null || own.month !== null || cap !== null)) {
      await tx.execute(sql`select pg_advisory_xact_lock(${PERSON_LOCK}, hashtext(${spend.userId}))`);
      if (cap !== null) await tx.execute(sql`select pg_advisory_xact_lock(${SITE_LOCK}, 0)`);
      const now = new Date();
      const span = periods(now);
      const refuse = (which: Period | "site", limit: number, used: number) => {
        const resetsAt = which === "day" ? span.day.end : span.month.end;
        throw new SpendingRefused(refusalSentence(which, limit, used, resetsAt, now));
      };
      const spent = await spentBy(tx, spend.userId, now);
      // The monthly limit first: when both are reached, the day's reset would not help.
      if (own.month !== null && spent.month >= own.month) refuse("month", own.month, spent.month);
      if (cap !== null) {
        const all = await spentBySite(tx, now);
        if (all >= cap) refuse("site", cap, all);
      }
      if (own.day !== null && spent.day >= own.day) refuse("day", own.day, spent.day);
    }
    const [inserted] = await tx.insert(usage).values(row).returning({ id: usage.id });
    return inserted!.id;
  });
}

/** A site limit in the admin's setting (see limits-repo.ts parseSiteLimits: a number, not negative). */
const siteLimit = (key: string) =>
  sql.raw(`(jsonb_typeof(s.value->'${key}') = 'number' and (s.value->>'${key}')::numeric >= 0)`);

/**
 * True when no limit applies to the person of the `users` row `u`: none of their own, none of a
 * group of theirs, none of the site's (what reserve's transaction would find). The send's read
 * asks it too (chat/repos/exchange.ts), to know whether its answer needs a reserve at all.
 */
export const noLimitApplies = sql`(u.daily_limit is null and u.monthly_limit is null
  and not exists (select 1 from group_members gm join groups g on g.id = gm.group_id
                  where gm.user_id = u.id and (g.daily_limit is not null or g.monthly_limit is not null))
  and not exists (select 1 from site_settings s where s.name = ${SITE_LIMITS_SETTING}
                  and (${siteLimit("day")} or ${siteLimit("month")} or ${siteLimit("siteMonth")})))`;

/** The rows as json_to_recordset reads them, each with its id made here. */
const asRecords = (rows: (Spend & { id?: string })[]) =>
  rows.map((r) => ({
    ...r,
    id: r.id ?? Bun.randomUUIDv7(),
    estimate: Math.max(0, r.estimate),
    messageId: r.messageId ?? null,
    apiKeyId: r.apiKeyId ?? null,
  }));

const recordset = (rows: ReturnType<typeof asRecords>) => sql`json_to_recordset(${JSON.stringify(rows)}::json)
      as r(id uuid, "userId" uuid, kind text, model text, estimate numeric, "messageId" uuid, "apiKeyId" uuid)`;

/**
 * The rows, each written only when no limit applies to its person. Each row's id, or undefined
 * where a limit applies (or there is no such person).
 */
async function insertIfUnlimited(db: Db, rows: Spend[]): Promise<(string | undefined)[]> {
  const asked = asRecords(rows);
  const result = await db.execute(sql`
    insert into usage (id, user_id, kind, model, estimate, message_id, api_key_id)
    select r.id, u.id, r.kind, r.model, r.estimate, r."messageId", r."apiKeyId"
    from ${recordset(asked)}
    join users u on u.id = r."userId"
    where ${noLimitApplies}
    returning id`);
  const written = new Set(rowsOf(result).map((r) => r.id as string));
  return asked.map((r) => (written.has(r.id) ? r.id : undefined));
}

/** The unlimited reserves of a tick are one statement and one commit (see db/per-tick.ts). */
const writeIfUnlimited = perTickOn(insertIfUnlimited);

/** Rows written as they are (the ones of recordAlongside), a tick's in one statement. */
const writeRows = perTickOn(async (db: Db, rows: (Spend & { id: string })[]): Promise<undefined[]> => {
  await db.execute(sql`
    insert into usage (id, user_id, kind, model, estimate, message_id, api_key_id)
    select r.id, r."userId", r.kind, r.model, r.estimate, r."messageId", r."apiKeyId" from ${recordset(asRecords(rows))}
    on conflict (id) do nothing`);
  return rows.map(() => undefined);
});

/**
 * reserve for a request whose person no limit applied to when the send was read (the send's own
 * statement tells, see noLimitApplies): with nothing to refuse, the row is only the record, so it
 * is written while the request goes instead of before it (a statement less before the first
 * words). `recorded` resolves once the row is written, writing it again if the first try failed:
 * the answer's end awaits it before settling (and is itself tried again while the database fails).
 * A limit set in between applies from the next request, as one set just after a reserve would.
 */
export function recordAlongside(db: Db, spend: Spend): { usageId: string; recorded: () => Promise<void> } {
  const row = { ...spend, id: Bun.randomUUIDv7() };
  let writing = writeRows(db, row);
  writing.catch(() => {});
  return {
    usageId: row.id,
    recorded: () => {
      writing = writing.catch(() => writeRows(db, row));
      return writing;
    },
  };
}

/**
 * Records what the request really used; its cost replaces the estimate in every count. Without a
 * reported cost (an answer that failed, was stopped or interrupted before the usage arrived) the
 * estimate keeps counting: the provider may well have charged for the prompt and the words that
 * streamed, and counting nothing would let a person past their limit by stopping every answer.
 */
export function settle(
  db: Db,
  usageId: string,
  used: { promptTokens?: number | null; completionTokens?: number | null; cost?: number | null },
): Promise<void> {
  return settleNow(db, {
    id: usageId,
    promptTokens: used.promptTokens ?? null,
    completionTokens: used.completionTokens ?? null,
    cost: used.cost ?? null,
  });
}

type Settled = { id: string; promptTokens: number | null; completionTokens: number | null; cost: number | null };

/** The answers that end together settle in one statement (see db/per-tick.ts). */
const settleNow = perTickOn(async (db: Db, rows: Settled[]): Promise<undefined[]> => {
  await db.execute(sql`
    update ${usage}
    set prompt_tokens = v."promptTokens", completion_tokens = v."completionTokens", cost = v.cost, settled_at = now()
    from json_to_recordset(${JSON.stringify(rows)}::json)
      as v(id uuid, "promptTokens" int, "completionTokens" int, cost float8)
    where ${usage.id} = v.id`);
  return rows.map(() => undefined);
});

/** Completion tokens counted for a request that names no maximum: a long answer, not the model's whole output. */
export const DEFAULT_COMPLETION_TOKENS = 1_000;
/** What an image or a file in the request is counted as (their bytes say little about their tokens). */
const TOKENS_PER_ATTACHMENT = 1_000;

type Priced = { promptPrice?: number | null; completionPrice?: number | null } | undefined;
type Part = { type: string; text?: string };

/**
 * What a request should cost at most, in US dollars: its prompt (about four characters a token,
 * attachments at a flat count) and its completion (the request's max_tokens, or a default) at the
 * model's prices per million tokens. Zero for a model whose prices are unknown.
 */
export function estimateCost(
  model: Priced,
  messages: { content: string | Part[] }[],
  maxTokens: number | undefined,
): number {
  let chars = 0;
  let attachments = 0;
  for (const m of messages) {
    if (typeof m.content === "string") chars += m.content.length;
    else
      for (const p of m.content) {
        if (p.type === "text") chars += p.text?.length ?? 0;
        else attachments++;
      }
  }
  return costOf(
    model,
    Math.ceil(chars / CHARS_PER_TOKEN) + attachments * TOKENS_PER_ATTACHMENT,
    maxTokens ?? DEFAULT_COMPLETION_TOKENS,
  );
}

/** Characters per token, roughly, for text of most languages (an over- rather than an underestimate for code). */
export const CHARS_PER_TOKEN = 4;

/** In US dollars: so many prompt and completion tokens at the model's prices per million (zero where unknown). */
export function costOf(model: Priced, promptTokens: number, completionTokens: number): number {
  const perToken = (price: number | null | undefined) => (price && price > 0 ? price / 1_000_000 : 0);
  return promptTokens * perToken(model?.promptPrice) + completionTokens * perToken(model?.completionPrice);
}
