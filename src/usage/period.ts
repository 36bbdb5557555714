/** The periods a usage page offers, and reading one from a query string. Days are UTC days. */

export const PERIODS = {
  "7": "Last 7 days",
  "30": "Last 30 days",
  "90": "Last 90 days",
  month: "This month",
  custom: "From and to dates",
} as const;
export type PeriodKey = keyof typeof PERIODS;

/** The longest period a page or a CSV covers: five years of days. */
export const MAX_DAYS = 5 * 366;
const DAY = 24 * 60 * 60 * 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export type Period = {
  key: PeriodKey;
  /** First day, YYYY-MM-DD. */
  from: string;
  /** Last day (included), YYYY-MM-DD. */
  to: string;
  /** Every day from `from` to `to`. */
  days: string[];
  /** The first instant in the period and the first one after it. */
  start: Date;
  end: Date;
};

const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/** A YYYY-MM-DD that names a real day (not 2024-02-30), as the UTC midnight that starts it. */
function parseDay(raw: string): Date | undefined {
  if (!DATE.test(raw)) return undefined;
  const d = new Date(`${raw}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || dayOf(d) !== raw ? undefined : d;
}

/** The period asked for (`period`, and `from`/`to` for custom), or a sentence saying what is wrong. */
export function readPeriod(query: Record<string, unknown>, now = new Date()): Period | { error: string } {
  const raw = typeof query.period === "string" && query.period ? query.period : "30";
  if (!(raw in PERIODS)) return { error: "Choose a period from the list." };
  const key = raw as PeriodKey;
  const today = new Date(`${dayOf(now)}T00:00:00Z`);
  let first: Date;
  let last = today;
  if (key === "month") first = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1));
  else if (key !== "custom") first = new Date(today.getTime() - (Number(key) - 1) * DAY);
  else {
    const from = typeof query.from === "string" ? query.from.trim() : "";
    const to = typeof query.to === "string" ? query.to.trim() : "";
    if (!from || !to) return { error: "Give both a from date and a to date, such as 2025-01-01." };
    const a = parseDay(from);
    const b = parseDay(to);
    if (!a) return { error: `“${from.slice(0, 40)}” is not a date: write it as year-month-day, such as 2025-01-31.` };
    if (!b) return { error: `“${to.slice(0, 40)}” is not a date: write it as year-month-day, such as 2025-01-31.` };
    if (a > b) return { error: "The from date is after the to date: swap them." };
    first = a;
    last = b;
  }
  const count = Math.round((last.getTime() - first.getTime()) / DAY) + 1;
  if (count > MAX_DAYS) return { error: "A period can be at most five years long: choose a shorter one." };
  const days = Array.from({ length: count }, (_, i) => dayOf(new Date(first.getTime() + i * DAY)));
  return { key, from: dayOf(first), to: dayOf(last), days, start: first, end: new Date(last.getTime() + DAY) };
}

/** The query string that asks for this period again (for links: the CSV, the other page). */
export function periodQuery(p: Pick<Period, "key" | "from" | "to">): Record<string, string> {
  return p.key === "custom" ? { period: "custom", from: p.from, to: p.to } : { period: p.key };
}
