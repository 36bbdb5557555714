import { and, eq, gte, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { perTickOn } from "../db/per-tick.ts";
import { siteSettings, usage, users } from "../db/schema.ts";
import { type Allowance, type Limits, periods, type SiteLimits } from "./limits-words.ts";

/*
 * Spending limits in US dollars, per day and per month, both in UTC (a day from 00:00 UTC, a month
 * from the 1st at 00:00 UTC). Which limit a person meets, for each period on its own:
 *
 *   their own (users.daily_limit / monthly_limit) → else the most generous their groups set
 *   → else the site's default (an admin setting)
 *
 * Null everywhere means "not set here": a group without a daily limit does not lift the site's
 * default, and with nothing set at all there is no limit. Besides, an optional site-wide monthly
 * cap counts everyone's spending, to protect the OpenRouter key itself.
 */

export const SITE_LIMITS_SETTING = "spending_limits";
const NO_LIMITS: SiteLimits = { day: null, month: null, siteMonth: null };

export async function siteLimits(db: Db): Promise<SiteLimits> {
  const [row] = await db
    .select({ value: siteSettings.value })
    .from(siteSettings)
    .where(eq(siteSettings.name, SITE_LIMITS_SETTING));
  return parseSiteLimits(row?.value);
}

export async function setSiteLimits(db: Db, limits: SiteLimits): Promise<void> {
  await db
    .insert(siteSettings)
    .values({ name: SITE_LIMITS_SETTING, value: limits })
    .onConflictDoUpdate({ target: siteSettings.name, set: { value: limits, updatedAt: new Date() } });
}

/** A person's own limits (null: not set for them); false when there is no such person. */
/** The person's username, or undefined when there is no such person. */
export async function setPersonLimits(db: Db, userId: string, limits: Limits): Promise<string | undefined> {
  const [row] = await db
    .update(users)
    .set({ dailyLimit: limits.day, monthlyLimit: limits.month })
    .where(eq(users.id, userId))
    .returning({ username: users.username });
  return row?.username;
}

function parseSiteLimits(value: unknown): SiteLimits {
  if (!value || typeof value !== "object") return NO_LIMITS;
  const v = value as Record<string, unknown>;
  const amount = (x: unknown) => (typeof x === "number" && Number.isFinite(x) && x >= 0 ? x : null);
  return { day: amount(v.day), month: amount(v.month), siteMonth: amount(v.siteMonth) };
}

/**
 * The limits that apply to a person, and the site's cap: one query (it is on the send path).
 * Undefined when there is no such person.
 */
export async function limitsFor(db: Db, userId: string): Promise<{ own: Limits; site: SiteLimits } | undefined> {
  return (await limitsOf(db, [userId]))[0];
}

/** limitsFor for many people in one statement, in the order asked. */
async function limitsOf(db: Db, userIds: string[]): Promise<({ own: Limits; site: SiteLimits } | undefined)[]> {
  // Spelled out: drizzle leaves column names unqualified in a subquery, where "id" would be the group's.
  const groupDay = sql<
    string | null
  >`(select max(g.daily_limit) from group_members gm join groups g on g.id = gm.group_id where gm.user_id = users.id)`;
  const groupMonth = sql<
    string | null
  >`(select max(g.monthly_limit) from group_members gm join groups g on g.id = gm.group_id where gm.user_id = users.id)`;
  const rows = await db
    .select({
      id: users.id,
      day: users.dailyLimit,
      month: users.monthlyLimit,
      groupDay,
      groupMonth,
      site: sql<unknown>`(select s.value from site_settings s where s.name = ${SITE_LIMITS_SETTING})`,
    })
    .from(users)
    .where(inArray(users.id, userIds));
  const num = (x: string | number | null) => (x === null ? null : Number(x));
  const byId = new Map(
    rows.map((row) => {
      const site = parseSiteLimits(typeof row.site === "string" ? JSON.parse(row.site) : row.site);
      const own = {
        day: num(row.day) ?? num(row.groupDay) ?? site.day,
        month: num(row.month) ?? num(row.groupMonth) ?? site.month,
      };
      return [row.id, { own, site }];
    }),
  );
  return userIds.map((id) => byId.get(id));
}

/** What a person spent today and this month: settled costs, and estimates of what is not settled yet. */
export async function spentBy(db: Db, userId: string, now = new Date()): Promise<{ day: number; month: number }> {
  const { day, month } = periods(now);
  const amount = sql`coalesce(${usage.cost}, ${usage.estimate})`;
  const [row] = await db
    .select({
      day: sql<string>`coalesce(sum(${amount}) filter (where ${usage.createdAt} >= ${day.start.toISOString()}), 0)::float8`,
      month: sql<string>`coalesce(sum(${amount}), 0)::float8`,
    })
    .from(usage)
    .where(and(eq(usage.userId, userId), gte(usage.createdAt, month.start)));
  return { day: Number(row?.day ?? 0), month: Number(row?.month ?? 0) };
}

/** What everyone spent this month (for the site's cap). */
export async function spentBySite(db: Db, now = new Date()): Promise<number> {
  const [row] = await db
    .select({ month: sql<string>`coalesce(sum(coalesce(${usage.cost}, ${usage.estimate})), 0)::float8` })
    .from(usage)
    .where(gte(usage.createdAt, periods(now).month.start));
  return Number(row?.month ?? 0);
}

/** The person's allowances, for each limit that applies to them (none: no limit). */
export async function allowances(db: Db, userId: string, now = new Date()): Promise<Allowance[]> {
  return allowancesGiven(db, userId, await limitsFor(db, userId), now);
}

/**
 * allowances after each answer: the limits of the people whose answers end together are read in
 * one statement (see db/per-tick.ts), what they spent only for those with a limit.
 */
export const allowancesAfterAnswer = perTickOn(async (db: Db, userIds: string[]): Promise<Allowance[][]> => {
  const limits = await limitsOf(db, userIds);
  return Promise.all(userIds.map((id, i) => allowancesGiven(db, id, limits[i])));
});

async function allowancesGiven(
  db: Db,
  userId: string,
  limits: { own: Limits } | undefined,
  now = new Date(),
): Promise<Allowance[]> {
  if (!limits || (limits.own.day === null && limits.own.month === null)) return [];
  const spent = await spentBy(db, userId, now);
  const ends = periods(now);
  const list: Allowance[] = [];
  for (const period of ["day", "month"] as const) {
    const limit = limits.own[period];
    if (limit === null) continue;
    const used = spent[period];
    list.push({ period, limit, spent: used, left: Math.max(0, limit - used), resetsAt: ends[period].end });
  }
  return list;
}
