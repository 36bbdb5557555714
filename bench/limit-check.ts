/**
 * What the spending check adds to every request that costs money: reserve() (a transaction with
 * an advisory lock, the person's limits, the sum of their month's usage, the insert) for a person
 * with ~10,000 usage rows this month, among 50,000 of others, with a daily and a monthly limit
 * and a site-wide cap set (the costliest case: the site's month is summed too), against reserve()
 * for a person with no limit (only the limits read and the insert). PGlite and Postgres.
 * Usage: bun bench/limit-check.ts [--rows=10000] [--runs=500]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import type { Database } from "../src/db/client.ts";
import { siteSettings, users } from "../src/db/schema.ts";
import { reserve } from "../src/teams/spending.ts";
import { onBothDrivers } from "./support.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const ROWS = arg("rows", 10_000);
const RUNS = arg("runs", 500);

async function seed(database: Database, userId: string, rows: number) {
  // Spread over this month (up to now), settled at a small cost each.
  await database.rows(sql`
    insert into usage (id, user_id, kind, model, estimate, cost, created_at, settled_at)
    select gen_random_uuid(), ${userId}::uuid, 'answer', 'bench/model', 0.0001, 0.0001,
      date_trunc('month', now()) + (now() - date_trunc('month', now())) * (i::float8 / ${rows}), now()
    from generate_series(1, ${rows}) i`);
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((s, x) => s + x, 0) / samples.length;
  return {
    mean: Math.round(mean),
    p50: Math.round(sorted[Math.floor(sorted.length * 0.5)]!),
    p95: Math.round(sorted[Math.floor(sorted.length * 0.95)]!),
  };
}

async function timeReserve(database: Database, userId: string) {
  const samples: number[] = [];
  for (let i = 0; i < RUNS + 20; i++) {
    const started = performance.now();
    await reserve(database.db, { userId, kind: "answer", model: "bench/model", estimate: 0 });
    if (i >= 20) samples.push((performance.now() - started) * 1000);
  }
  return stats(samples);
}

const results = await onBothDrivers(async (driver, database) => {
  const make = async (username: string, limits: { dailyLimit?: number; monthlyLimit?: number }) =>
    (
      await database.db
        .insert(users)
        .values({ username, passwordHash: "x", ...limits })
        .returning()
    )[0]!;
  const limited = await make("limited", { dailyLimit: 1_000_000, monthlyLimit: 1_000_000 });
  const free = await make("free", {});
  await seed(database, limited.id, ROWS);
  await seed(database, free.id, ROWS);
  for (let i = 0; i < 4; i++) await seed(database, (await make(`other${i}`, {})).id, ROWS);
  await database.rows(sql`analyze usage`);
  const none = await timeReserve(database, free.id);
  const personal = await timeReserve(database, limited.id);
  await database.db
    .insert(siteSettings)
    .values({ name: "spending_limits", value: { day: null, month: null, siteMonth: 1e6 } });
  const withCap = await timeReserve(database, limited.id);
  const row = { driver, rows: ROWS, runs: RUNS, none, personal, withCap };
  console.log(
    `${driver.padEnd(9)} reserve() µs mean/p50/p95 — no limit: ${fmt(none)} · daily+monthly limit: ${fmt(personal)} · + site cap: ${fmt(withCap)}`,
  );
  return row;
});

function fmt(s: { mean: number; p50: number; p95: number }) {
  return `${s.mean}/${s.p50}/${s.p95}`;
}

mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(new URL("./results/limit-check.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
