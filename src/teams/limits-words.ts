import { dollars } from "../limits.ts";

/*
 * Spending limits as people read them: the periods (UTC), what is left, why a request is refused,
 * and a limit as the admin types it. Pure, so pages and the server say the same.
 */

export type Period = "day" | "month";

/** A limit per period; null: none. */
export type Limits = { day: number | null; month: number | null };

/** The admin's settings: the default for everyone, and the cap on the whole site's month. */
export type SiteLimits = Limits & { siteMonth: number | null };

/** The most a limit may be: more is a typo, not a budget. */
export const MAX_LIMIT = 1_000_000;

/** When the day and the month now under way began, and when they end (UTC). */
export function periods(now = new Date()) {
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const d = now.getUTCDate();
  return {
    day: { start: new Date(Date.UTC(y, m, d)), end: new Date(Date.UTC(y, m, d + 1)) },
    month: { start: new Date(Date.UTC(y, m, 1)), end: new Date(Date.UTC(y, m + 1, 1)) },
  };
}

/** One limit as the person reads it: how much of it is left, and when it starts again. */
export type Allowance = { period: Period; limit: number; spent: number; left: number; resetsAt: Date };

const LIMIT_NAME = { day: "daily", month: "monthly" } as const;
const PERIOD_NAME = { day: "today", month: "this month" } as const;

/** "$1.20 of $5.00 left today". */
export function leftSentence(a: Allowance): string {
  return `${dollars(a.left)} of ${dollars(a.limit)} left ${PERIOD_NAME[a.period]}`;
}

/** "00:00 UTC, in 3 hours" or "1 August at 00:00 UTC, in 9 days". */
export function resetPhrase(period: Period, resetsAt: Date, now = new Date()): string {
  const when =
    period === "day"
      ? "00:00 UTC"
      : `${resetsAt.getUTCDate()} ${resetsAt.toLocaleString("en", { month: "long", timeZone: "UTC" })} at 00:00 UTC`;
  return `${when}, ${fromNow(resetsAt.getTime() - now.getTime())}`;
}

/** "in 3 hours", "in 40 minutes", "in 9 days". */
export function fromNow(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const plural = (n: number, unit: string) => `in ${n} ${unit}${n === 1 ? "" : "s"}`;
  if (minutes < 60) return plural(minutes, "minute");
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, "hour");
  return plural(Math.round(hours / 24), "day");
}

/** Why a request is refused: which limit, how much, and when it resets. */
export function refusalSentence(
  which: Period | "site",
  limit: number,
  spent: number,
  resetsAt: Date,
  now = new Date(),
): string {
  const reset = resetPhrase(which === "site" ? "month" : which, resetsAt, now);
  if (which === "site") {
    return `This site has reached its monthly spending cap of ${dollars(limit)} (spent ${dollars(spent)}); it resets on ${reset}. Ask the admin if you need more.`;
  }
  const on = which === "month" ? "on " : "at ";
  return `You have reached your ${LIMIT_NAME[which]} limit of ${dollars(limit)} (spent ${dollars(spent)}); it resets ${on}${reset}.`;
}

/**
 * A limit as the admin typed it: empty is none (null); otherwise dollars from 0 to MAX_LIMIT, a
 * "$" and thousands separators allowed. A refusal is a sentence naming the field.
 */
export function parseLimit(raw: unknown, name: string): number | null {
  const text = typeof raw === "string" ? raw.trim().replace(/^\$/, "").replace(/[,_ ]/g, "") : "";
  if (raw !== undefined && typeof raw !== "string") throw new LimitError(`${name} must be an amount in dollars.`);
  if (!text) return null;
  const shown = String(raw).trim().slice(0, 40);
  if (!/^-?\d*(\.\d*)?$/.test(text) || text === "." || text === "-") {
    throw new LimitError(`${name} must be an amount in dollars, such as 5 or 2.50 (got “${shown}”).`);
  }
  const value = Number(text);
  if (value < 0) throw new LimitError(`${name} cannot be negative (got “${shown}”); leave it empty for no limit.`);
  if (value > MAX_LIMIT) {
    throw new LimitError(
      `${name} can be at most $${MAX_LIMIT.toLocaleString("en")} (got “${shown}”); leave it empty for no limit.`,
    );
  }
  // Stored with four decimals (numeric(12, 4)).
  return Math.round(value * 10_000) / 10_000;
}

/** A limit the admin typed that cannot be one; its message is the sentence to show. */
export class LimitError extends Error {}

/** Below this share of a limit left, the composer says so. */
export const LOW_SHARE = 0.2;

/**
 * What the composer says when little is left: "$0.80 of $5.00 left today." per low limit, or
 * that one is reached and when it resets. Undefined when there is plenty left.
 */
export function lowNotice(list: Allowance[], now = new Date()): string | undefined {
  const low = list.filter((a) => a.left < a.limit * LOW_SHARE);
  if (!low.length) return undefined;
  return low
    .map((a) =>
      a.left <= 0
        ? `You have reached your ${LIMIT_NAME[a.period]} limit of ${dollars(a.limit)}; it resets ${a.period === "day" ? "at" : "on"} ${resetPhrase(a.period, a.resetsAt, now)}.`
        : `${leftSentence(a)}.`,
    )
    .join(" ");
}
