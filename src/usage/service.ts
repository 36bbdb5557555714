import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { csv } from "./csv.ts";
import { type Period, readPeriod } from "./period.ts";
import * as repo from "./repo.ts";
import { DELETED_ACCOUNT, type UsageDetail, type UsageReport, type UsageTotals } from "./types.ts";

const zero = (): UsageTotals => ({ requests: 0, cost: 0, promptTokens: 0, completionTokens: 0, unsettled: 0 });
const add = (into: UsageTotals, d: UsageTotals) => {
  into.requests += d.requests;
  into.cost += d.cost;
  into.promptTokens += d.promptTokens;
  into.completionTokens += d.completionTokens;
  into.unsettled += d.unsettled;
};

/** Sums the groups by one key, in the order keys first appear. */
function sumBy<K extends string>(rows: UsageDetail[], key: (d: UsageDetail) => K) {
  const groups = new Map<K, { first: UsageDetail; totals: UsageTotals }>();
  for (const d of rows) {
    const k = key(d);
    const g = groups.get(k) ?? groups.set(k, { first: d, totals: zero() }).get(k)!;
    add(g.totals, d);
  }
  return [...groups.values()];
}

const byCost = <T extends UsageTotals>(a: T, b: T) => b.cost - a.cost || b.requests - a.requests;

/** A refusal the person reads: bad dates, no such person. */
export class UsageError extends Error {}

/** The usage pages' numbers: what was spent in a period, by day, model and person, and as CSV. */
export function createUsageService({ database }: { database: Database }) {
  const { db } = database;
  return {
    /** The period in the query, or UsageError with the sentence that says what is wrong. */
    period(query: Record<string, unknown>, now?: Date): Period {
      const p = readPeriod(query, now);
      if ("error" in p) throw new UsageError(p.error);
      return p;
    },

    /** Everything spent in the period, by everyone or by one person (by id). */
    async report(period: Period, userId?: string): Promise<UsageReport> {
      const detail = await repo.detail(db, period.start, period.end, userId);
      const totals = zero();
      for (const d of detail) add(totals, d);
      const days = new Map(sumBy(detail, (d) => d.day).map((g) => [g.first.day, g.totals]));
      return {
        period: { key: period.key, from: period.from, to: period.to },
        totals,
        byDay: period.days.map((day) => ({ day, ...(days.get(day) ?? zero()) })),
        byModel: sumBy(detail, (d) => d.model)
          .map((g) => ({ model: g.first.model, ...g.totals }))
          .sort(byCost),
        byPerson: sumBy(detail, (d) => d.userId ?? "")
          .map((g) => ({ userId: g.first.userId, username: g.first.username, ...g.totals }))
          .sort(byCost),
        detail,
      };
    },

    /** The person filter's choice: an account's id, or UsageError. Empty means everyone. */
    async person(raw: unknown): Promise<{ id: string; username: string } | undefined> {
      if (raw === undefined || raw === "") return undefined;
      const found = isId(raw) ? (await repo.people(db)).find((p) => p.id === raw) : undefined;
      if (!found) throw new UsageError("There is no such person: choose one from the list.");
      return found;
    },

    people: () => repo.people(db),

    /** The report's groups as CSV, one line per day, person (unless `ownOnly`) and model. */
    csv(report: UsageReport, { ownOnly = false } = {}): string {
      const head = ["day", ...(ownOnly ? [] : ["person"]), "model", "requests", "prompt_tokens", "completion_tokens"];
      const rows = report.detail.map((d) => [
        d.day,
        ...(ownOnly ? [] : [d.username ?? DELETED_ACCOUNT]),
        d.model,
        d.requests,
        d.promptTokens,
        d.completionTokens,
        d.cost,
        d.unsettled,
      ]);
      return csv([[...head, "cost_usd", "unsettled_requests"], ...rows]);
    },

    /** Settled cost and tokens per model, for Prometheus. */
    settledByModel: () => repo.settledByModel(db),
  };
}

export type UsageService = ReturnType<typeof createUsageService>;
