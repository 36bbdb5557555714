/** What the usage pages show: plain data, shared by the service and the views. */

export type UsageTotals = {
  requests: number;
  /** US dollars: the settled cost, or the estimate of a request not settled yet. */
  cost: number;
  promptTokens: number;
  completionTokens: number;
  /** Requests counted at their estimate (still in flight, or never settled). */
  unsettled: number;
};

/** One group of the period's requests: a day, a person and a model. */
export type UsageDetail = UsageTotals & {
  day: string;
  userId: string | null;
  /** Null once the person's account is deleted (their usage stays). */
  username: string | null;
  model: string;
};

export type UsageReport = {
  period: { key: string; from: string; to: string };
  totals: UsageTotals;
  /** Every day of the period, in order, with zeros where nothing was spent. */
  byDay: (UsageTotals & { day: string })[];
  byModel: (UsageTotals & { model: string })[];
  byPerson: (UsageTotals & { userId: string | null; username: string | null })[];
  detail: UsageDetail[];
};

/** Dollars as people read them: cents, or four decimals for sums under a cent. */
export function dollars(n: number): string {
  if (n === 0) return "$0.00";
  if (Math.abs(n) < 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** A whole number with thousands separators. */
export const count = (n: number): string => n.toLocaleString("en-US");

/** How the usage of a deleted account is named. */
export const DELETED_ACCOUNT = "(deleted account)";
