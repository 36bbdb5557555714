import { and, asc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { usage, users } from "../db/schema.ts";
import type { UsageDetail } from "./types.ts";

/** Spent = the settled cost, or the estimate until then (see `usage` in schema.ts). */
const spent = sql`coalesce(${usage.cost}, ${usage.estimate})`;

/**
 * The period's requests grouped by UTC day, person and model (usage_time_idx and
 * usage_user_time_idx serve the range). Sums are exact in numeric and only then made floats.
 */
export function detail(db: Db, start: Date, end: Date, userId?: string): Promise<UsageDetail[]> {
  const day = sql<string>`to_char(${usage.createdAt} at time zone 'UTC', 'YYYY-MM-DD')`;
  const where: SQL[] = [gte(usage.createdAt, start), lt(usage.createdAt, end)];
  if (userId) where.push(eq(usage.userId, userId));
  return db
    .select({
      day,
      userId: usage.userId,
      username: users.username,
      model: usage.model,
      requests: sql<number>`count(*)::int`,
      cost: sql<number>`sum(${spent})::float8`,
      promptTokens: sql<number>`coalesce(sum(${usage.promptTokens}), 0)::float8`,
      completionTokens: sql<number>`coalesce(sum(${usage.completionTokens}), 0)::float8`,
      unsettled: sql<number>`(count(*) filter (where ${usage.cost} is null))::int`,
    })
    .from(usage)
    .leftJoin(users, eq(users.id, usage.userId))
    .where(and(...where))
    .groupBy(day, usage.userId, users.username, usage.model)
    .orderBy(asc(day), asc(users.username), asc(usage.model));
}

/** Settled cost and tokens per model since the start, for Prometheus's counters. */
export function settledByModel(
  db: Db,
): Promise<{ model: string; cost: number; promptTokens: number; completionTokens: number }[]> {
  return db
    .select({
      model: usage.model,
      cost: sql<number>`sum(${usage.cost})::float8`,
      promptTokens: sql<number>`coalesce(sum(${usage.promptTokens}), 0)::float8`,
      completionTokens: sql<number>`coalesce(sum(${usage.completionTokens}), 0)::float8`,
    })
    .from(usage)
    .where(sql`${usage.cost} is not null`)
    .groupBy(usage.model)
    .orderBy(asc(usage.model));
}

/** Everyone with an account, for the person filter. */
export function people(db: Db): Promise<{ id: string; username: string }[]> {
  return db.select({ id: users.id, username: users.username }).from(users).orderBy(asc(users.username));
}
