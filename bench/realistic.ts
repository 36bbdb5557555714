/**
 * A load closer to real use than bench/load.ts: `--streams` answers (default 300) of 600-1,500
 * tokens of Markdown (headings, paragraphs, lists, TypeScript code, bold) at 30-80 tokens/s each,
 * sent within `--spread` ms (default 5,000) rather than all at once, while `--browsers` people
 * (default 10) each open a streaming person's chat page, search their chats, and pause `--think`
 * ms (default 500) before the next. The same answers then go through the bare relay (bench/relay.ts). Prints, for both:
 * added time to first token and frame latency (median/p99), tokens/s and Parley's share of the
 * relay's, CPU and peak RSS; for Parley also the page-open and search times (median/p99) under
 * that load, the Postgres backends' CPU, and whether every answer was seen whole and stored whole.
 *
 *   bun bench/realistic.ts [--streams=300] [--browsers=10] [--think=500] [--spread=5000] [--bin=PATH | --source]
 *
 * Uses dist/parley when built, and the Postgres the tests use. Writes bench/results/realistic-*.json.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { nowMicros, startFakeUpstream } from "../test/fake-upstream.ts";
import { postForm } from "../test/support/http.ts";
import { createDatabase, findPostgres } from "../test/support/postgres.ts";
import {
  answerFrame,
  backendsOf,
  drive,
  freePort,
  isChatReady,
  parleyEnv,
  quantile,
  type Stream,
  signedInPeople,
  spawnRelay,
  stampsIn,
  waitReady,
} from "./streams.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const STREAMS = Number(arg("streams") ?? 300);
const BROWSERS = Number(arg("browsers") ?? 10);
const SPREAD_MS = Number(arg("spread") ?? 5000);
const THINK_MS = Number(arg("think") ?? 500);
const ROOT = resolve(import.meta.dir, "..");
const binary = resolve(arg("bin") ?? join(ROOT, "dist", "parley"));
const useBinary = existsSync(binary) && !process.argv.includes("--source");

// mulberry32: the same lengths and paces on every run, so runs compare.
const random = (seed: number) => {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), 1 | t);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
};
/** The answer to `<tag> <n>`: 600-1,500 tokens at 30-80 tokens/s, the same n alike in Parley's run and the relay's. */
const answer = (asked: string) => {
  const n = Number(asked.split(" ").at(-1));
  return {
    stampedTokens: 600 + Math.floor(random(n * 2) * 901),
    tokenDelayMs: Math.round(1000 / (30 + random(n * 2 + 1) * 50)),
  };
};

const fake = startFakeUpstream();
const pg = await findPostgres();
if (!pg) throw new Error("This benchmark needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432).");
const target = await createDatabase(pg.adminUrl);
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const parley = Bun.spawn(useBinary ? [binary, "serve"] : [process.execPath, join(ROOT, "src/cli.ts"), "serve"], {
  env: parleyEnv(port, { DATABASE_URL: target.url }, fake.url),
  stdout: "inherit",
  stderr: "inherit",
});
const relayPort = await freePort();
const relay = spawnRelay(relayPort, fake.url);

type Figures = {
  addedFirstTokenMs: { median: number; p99: number };
  frameLatencyMs: { median: number; p99: number };
  tokensPerSecond: number;
  errors: number;
  cpuPercent: number;
  peakRssMb: number;
};

/** One run's figures; each answer's tokens counted from what the fake upstream sent for it. */
function figures(streams: Stream[], run: Awaited<ReturnType<typeof drive>>, tag: string): Figures {
  const requestOf = (i: number) => fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`);
  const ok = streams.filter((s) => s.doneAt && !s.failed);
  const added = streams.flatMap((s, i) => {
    const received = requestOf(i)?.receivedAt;
    if (s.firstAt === undefined || s.firstStamp === undefined || received === undefined) return [];
    return [(s.firstAt - s.sentAt - (s.firstStamp - received)) / 1000];
  });
  const latencies = streams.flatMap((s) => s.latencies);
  const tokens = streams.reduce(
    (sum, s, i) => sum + (s.doneAt && !s.failed ? stampsIn(requestOf(i)?.sent ?? "").length : 0),
    0,
  );
  const first = Math.min(...streams.map((s) => s.sentAt));
  const last = Math.max(...ok.map((s) => s.doneAt!));
  return {
    addedFirstTokenMs: { median: quantile(added, 0.5), p99: quantile(added, 0.99) },
    frameLatencyMs: { median: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    tokensPerSecond: tokens / ((last - first) / 1e6),
    errors: streams.length - ok.length,
    cpuPercent: run.processes[0]!.cpuPercent,
    peakRssMb: run.processes[0]!.peakRssMb,
  };
}

/** Sends spread evenly over SPREAD_MS, as people arrive, not in one instant. */
const spread = (i: number) => (i / STREAMS) * SPREAD_MS;

let failed = false;
try {
  await waitReady(`${base}/readyz`, parley);
  // The relay answers plain HTTP with 400 (WebSocket only): any answer means it listens.
  while (!(await fetch(`http://127.0.0.1:${relayPort}/`).catch(() => undefined))) await Bun.sleep(50);
  const database = await openDatabase({ url: target.url, dataDir: "", poolSize: 2 });
  const cookies = await signedInPeople(database, STREAMS);
  const chats: string[] = [];
  fake.setDefault({ tokenSize: 64 });
  for (let i = 0; i < STREAMS; i += 50) {
    const made = await Promise.all(
      cookies.slice(i, i + 50).map((cookie, j) => postForm(base, "/chats", { content: `chat ${i + j}` }, cookie)),
    );
    for (const res of made) chats.push(/\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")?.[1] ?? "");
  }
  if (chats.some((c) => !c)) throw new Error("a chat could not be made");
  await Bun.sleep(2000); // their short first answers end
  fake.setDefault({ stampedTokens: 600, stampedMarkdown: true, firstTokenDelayMs: 300, perRequest: answer });

  // People browsing meanwhile: a chat's page, then a search of their chats, one after the other.
  const pages: number[] = [];
  const searches: number[] = [];
  let browsing = true;
  const browse = async (b: number) => {
    for (let k = b; browsing; k += BROWSERS) {
      const i = Math.floor(random(k + 7919) * STREAMS);
      const headers = { cookie: cookies[i]! };
      let started = performance.now();
      const page = await fetch(`${base}/chats/${chats[i]}`, { headers });
      await page.text();
      if (page.ok) pages.push(performance.now() - started);
      started = performance.now();
      const found = await fetch(`${base}/search?q=part`, { headers: { ...headers, "HX-Request": "true" } });
      await found.text();
      if (found.ok) searches.push(performance.now() - started);
      await Bun.sleep(THINK_MS);
    }
  };

  const tag = `realistic ${Date.now()}`;
  const limitMs = SPREAD_MS + 1500 * 34 * 3 + 30_000;
  const browsers = Array.from({ length: BROWSERS }, (_, b) => browse(b));
  const backends = () => backendsOf(database);
  const run = await drive({
    n: STREAMS,
    pids: [parley.pid],
    backends,
    limitMs,
    open: (i) =>
      new WebSocket(`ws://127.0.0.1:${port}/ws?chat=${chats[i]}`, {
        headers: { Origin: base, cookie: cookies[i] },
      } as never),
    ready: isChatReady,
    send: (ws, i) => ws.send(JSON.stringify({ action: "send", chat: chats[i], content: `${tag} ${i}` })),
    sendDelayMs: spread,
    frame: answerFrame(tag),
  });
  browsing = false;
  await Promise.all(browsers);
  const parleyFigures = figures(run.tabs[0]!, run, tag);
  let lost = 0;
  for (let i = 0; i < STREAMS; i++) {
    const sent = fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`)?.sent;
    const [row] = await database.rows<{ content: string; status: string }>(
      sql`select content, status from messages where chat_id = ${chats[i]} and role = 'assistant' order by id desc limit 1`,
    );
    if (!sent || row?.content !== sent || row.status !== "complete") lost++;
  }
  await database.close();

  const relayTag = `relay ${Date.now()}`;
  const relayRun = await drive({
    n: STREAMS,
    pids: [relay.pid],
    limitMs,
    open: () => new WebSocket(`ws://127.0.0.1:${relayPort}/`),
    send: (ws, i) => ws.send(JSON.stringify({ content: `${relayTag} ${i}` })),
    sendDelayMs: spread,
    frame: (_ws, m) => ({ stamps: m === "[done]" ? [] : stampsIn(m), done: m === "[done]" }),
  });
  const relayFigures = figures(relayRun.tabs[0]!, relayRun, relayTag);

  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
  const line = (name: string, r: Figures) =>
    `${name.padEnd(7)} +TTFT ${f(r.addedFirstTokenMs.median)} / ${f(r.addedFirstTokenMs.p99)} ms | frame ${f(r.frameLatencyMs.median)} / ${f(r.frameLatencyMs.p99)} ms | ${f(r.tokensPerSecond)} tok/s | ${r.errors} errors | CPU ${f(r.cpuPercent)}% | RSS ${f(r.peakRssMb)} MB`;
  console.log(
    `\n${STREAMS} answers of 600-1,500 Markdown tokens at 30-80 tokens/s, sent within ${SPREAD_MS} ms; ${BROWSERS} people browsing meanwhile, ${THINK_MS} ms between a search and their next page`,
  );
  console.log(line("Parley", parleyFigures));
  console.log(line("relay", relayFigures));
  console.log(
    `Parley / relay: throughput ${f((parleyFigures.tokensPerSecond / relayFigures.tokensPerSecond) * 100)}% | Postgres CPU ${f(run.postgresCpuPercent)}% | machine CPU ${f(run.machineCpuPercent)}%`,
  );
  console.log(
    `under that load: ${pages.length} chat pages opened in ${f(quantile(pages, 0.5))} / ${f(quantile(pages, 0.99))} ms (median / p99), ${searches.length} searches in ${f(quantile(searches, 0.5))} / ${f(quantile(searches, 0.99))} ms`,
  );
  console.log(lost ? `${lost} answers NOT stored whole` : "every answer stored whole");
  failed = lost > 0 || parleyFigures.errors > 0;
  mkdirSync(join(import.meta.dir, "results"), { recursive: true });
  writeFileSync(
    join(import.meta.dir, "results", `realistic-${Date.now()}.json`),
    JSON.stringify(
      {
        at: new Date(nowMicros() / 1000).toISOString(),
        parley: useBinary ? binary : "sources",
        streams: STREAMS,
        browsers: BROWSERS,
        spreadMs: SPREAD_MS,
        parleyFigures,
        relayFigures,
        postgresCpuPercent: run.postgresCpuPercent,
        pages: { count: pages.length, median: quantile(pages, 0.5), p99: quantile(pages, 0.99) },
        searches: { count: searches.length, median: quantile(searches, 0.5), p99: quantile(searches, 0.99) },
        lost,
      },
      null,
      2,
    ),
  );
} catch (err) {
  failed = true;
  console.error(`realistic benchmark failed: ${(err as Error).message}`);
} finally {
  parley.kill("SIGTERM");
  relay.kill("SIGTERM");
  await Promise.all([parley.exited, relay.exited]);
  await fake.stop();
  await target.drop();
  await pg.stop();
}
process.exit(failed ? 1 : 0);
