/**
 * How long a search takes as the box is typed into, over 100,000 messages of one person (500
 * chats of 200) with another person's 20,000 beside them, on the embedded database and on
 * Postgres (when one answers). Prints a table and writes JSON to bench/results/.
 * Usage: bun bench/search.ts [--messages=100000]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import type { Database } from "../src/db/client.ts";
import { chats, messages } from "../src/db/schema.ts";
import { benchApp, onBothDrivers } from "./support.ts";

const MESSAGES = Number(process.argv.find((a) => a.startsWith("--messages="))?.split("=")[1] ?? 100_000);
const PER_CHAT = 200;
const RUNS = 20;

// Words with a Zipf-like spread, as text has: a few very common, most rare.
const VOCABULARY = Array.from({ length: 5000 }, (_, i) => `w${i.toString(36)}x`);
// mulberry32: the same text on every run, so runs compare.
let seed = 42;
const random = () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
const word = () => VOCABULARY[Math.floor(VOCABULARY.length ** random()) - 1]!;
const sentence = (n: number) => Array.from({ length: n }, word).join(" ");

/** What is typed, and what it finds: the common word is in most messages, the rare ones in few. */
const QUERIES: [string, string][] = [
  ["a common word", VOCABULARY[0]!],
  ["a rare word", VOCABULARY[3000]!],
  ["typing (a prefix)", VOCABULARY[40]!.slice(0, 2)],
  ["two words", `${VOCABULARY[5]} ${VOCABULARY[200]}`],
  ["a word no message has", "zzzz"],
];

async function seedMessages(database: Database, userId: string, count: number) {
  seed = count; // the same text on both drivers
  for (let c = 0; c < count / PER_CHAT; c++) {
    const [chat] = await database.db
      .insert(chats)
      .values({ userId, title: `Chat ${c}: ${sentence(4)}`, model: "m" })
      .returning();
    const rows = Array.from({ length: PER_CHAT }, (_, j) => ({
      id: Bun.randomUUIDv7(),
      chatId: chat!.id,
      role: j % 2 ? ("assistant" as const) : ("user" as const),
      content: j % 2 ? sentence(120) : sentence(15),
    }));
    await database.db.insert(messages).values(rows);
  }
}

async function measure(label: string, database: Database) {
  const app = benchApp(database);
  const { base } = app;
  const { user, cookie } = await app.person("bench", true);
  const other = await app.person("someone");
  const seeding = performance.now();
  await seedMessages(database, user.id, MESSAGES);
  await seedMessages(database, other.user.id, MESSAGES / 5);
  const seedSeconds = (performance.now() - seeding) / 1000;
  // As autovacuum would have by now on a database that grew to this size.
  await database.rows(sql`analyze`);
  const headers = { cookie, "HX-Request": "true" };
  const rows = [];
  for (const [name, q] of QUERIES) {
    const times: number[] = [];
    let results = 0;
    for (let i = 0; i < RUNS + 3; i++) {
      const start = performance.now();
      const res = await fetch(`${base}/search?q=${encodeURIComponent(q)}`, { headers });
      if (res.status !== 200) throw new Error(`GET /search answered ${res.status}`);
      results = ((await res.text()).match(/<li>/g) ?? []).length;
      if (i >= 3) times.push(performance.now() - start); // the first runs warm caches
    }
    times.sort((a, b) => a - b);
    rows.push({
      driver: label,
      query: name,
      results,
      medianMs: times[Math.floor(times.length / 2)]!,
      p95Ms: times[Math.floor(times.length * 0.95)]!,
    });
  }
  await app.stop();
  return { rows, seedSeconds };
}

const measured = await onBothDrivers(measure, { onDisk: process.argv.includes("--on-disk") });
const results = measured.flatMap((m) => m.rows);
const embedded = measured[0]!;

console.log(
  `Search (GET /search, up to 20 chats with headlines) over ${MESSAGES.toLocaleString("en")} messages of one person in ${MESSAGES / PER_CHAT} chats, and ${(MESSAGES / 5).toLocaleString("en")} of another's; seeding PGlite took ${embedded.seedSeconds.toFixed(0)} s:`,
);
console.log("driver     query                    chats   median ms   p95 ms");
for (const r of results) {
  console.log(
    `${r.driver.padEnd(10)} ${r.query.padEnd(24)} ${String(r.results).padStart(5)} ${r.medianMs.toFixed(2).padStart(11)} ${r.p95Ms.toFixed(2).padStart(8)}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/search-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, messages: MESSAGES, results }, null, 2),
);
process.exit(0);
