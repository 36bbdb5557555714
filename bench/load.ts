/**
 * Many answers streaming at once, through Parley and through a bare relay (bench/relay.ts), on
 * one machine with the fake upstream and the load client. Each stream is one person's signed-in
 * WebSocket on their own chat, sending a message the way the browser does; the fake upstream answers with
 * 200 tokens, 20 ms apart, the first after 100 ms, each stamped with the time it was sent.
 *
 *   bun bench/load.ts                     1, 100, 500 and 1,000 streams, then 5,000 idle sockets
 *                                         (--idle=N); table + bench/results/
 *   bun bench/load.ts --streams=50 --check  CI: exit 1 on any error or lost text, never on a time
 *   bun bench/load.ts --instances=2       two Parley processes on one database: the streams split
 *                                         over both, then each with a second tab on the other
 *   bun bench/load.ts --bin=PATH          another build of Parley (say, of an older commit)
 *
 * Uses dist/parley when it exists (else the sources) and the Postgres the tests use.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { startFakeUpstream } from "../test/fake-upstream.ts";
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
  type Usage,
  usage,
  waitReady,
} from "./streams.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const LEVELS = (arg("streams") ?? "1,100,500,1000").split(",").map(Number);
const CHECK = process.argv.includes("--check");
const TOKENS = Number(arg("tokens") ?? 200);
const IDLE = Number(arg("idle") ?? (CHECK ? 0 : 5000));
const TOKEN_MS = Number(arg("token-ms") ?? 20);
const FIRST_MS = 100;
const INSTANCES = Number(arg("instances") ?? 1);
if (INSTANCES !== 1 && INSTANCES !== 2) throw new Error("--instances is 1 or 2");
const ROOT = resolve(import.meta.dir, "..");
/** How long a run waits for every answer to end. */
const limitMs = FIRST_MS + TOKENS * TOKEN_MS * 4 + 30_000;

type Result = {
  streams: number;
  completed: number;
  errors: number;
  addedFirstTokenMs: { median: number; p99: number };
  /** Of the added time, medians: the message's way to the upstream (sent → request received), and the first token's way back. */
  addedLegsMs: { toUpstream: number; back: number };
  frameLatencyMs: { median: number; p99: number };
  tokensPerSecond: number;
  /** The server processes together (percent of one core; both Parley instances when there are two). */
  cpuPercent: number;
  peakRssMb: number;
  /** Each server process, in the order started. */
  processes: Usage[];
  /** The Postgres backends serving the benchmark's database (Parley's pools and its bus connections). */
  postgresCpuPercent: number;
  /** Every core of the machine together: the servers, Postgres, the fake upstream, this client, and anything else running. */
  machineCpuPercent: number;
};

/** One tab's figures (`streams`: the first socket of each stream, or the second...) over a run. */
function summarise(
  streams: Stream[],
  run: Awaited<ReturnType<typeof drive>>,
  upstreamFirst: (i: number) => number | undefined,
): Result {
  const n = streams.length;
  const ok = streams.filter((s) => s.doneAt && !s.failed);
  // Client-observed time to first token, minus the upstream's own (request in → first token
  // out): the message's way to the upstream, and the first token's way back.
  const legs = streams.flatMap((s, i) => {
    const received = upstreamFirst(i);
    if (s.firstAt === undefined || s.firstStamp === undefined || received === undefined) return [];
    return [{ to: (received - s.sentAt) / 1000, back: (s.firstAt - s.firstStamp) / 1000 }];
  });
  const added = legs.map((l) => l.to + l.back);
  const latencies = streams.flatMap((s) => s.latencies);
  const lastDone = Math.max(...ok.map((s) => s.doneAt!));
  const firstSent = Math.min(...streams.map((s) => s.sentAt));
  return {
    streams: n,
    completed: ok.length,
    errors: n - ok.length,
    addedFirstTokenMs: { median: quantile(added, 0.5), p99: quantile(added, 0.99) },
    addedLegsMs: {
      toUpstream: quantile(
        legs.map((l) => l.to),
        0.5,
      ),
      back: quantile(
        legs.map((l) => l.back),
        0.5,
      ),
    },
    frameLatencyMs: { median: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    tokensPerSecond: ok.length ? (ok.length * TOKENS) / ((lastDone - firstSent) / 1e6) : 0,
    cpuPercent: run.processes.reduce((sum, p) => sum + p.cpuPercent, 0),
    peakRssMb: run.processes.reduce((sum, p) => sum + p.peakRssMb, 0),
    processes: run.processes,
    postgresCpuPercent: run.postgresCpuPercent,
    machineCpuPercent: run.machineCpuPercent,
  };
}

// ---------------------------------------------------------------------------------------------

const fake = startFakeUpstream();
const pg = await findPostgres();
if (!pg) throw new Error("The load benchmark needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432).");
const target = await createDatabase(pg.adminUrl);
const binary = resolve(arg("bin") ?? join(ROOT, "dist", "parley"));
if (arg("bin") && !existsSync(binary)) throw new Error(`--bin: no file at ${binary}`);
const useBinary = existsSync(binary) && !process.argv.includes("--source");
// --profile: run the sources under Bun's sampling profiler; the profile (a .cpuprofile and a
// Markdown summary) lands in bench/results/ when Parley exits.
const PROFILE = process.argv.includes("--profile");
const profiler = PROFILE
  ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${join(import.meta.dir, "results")}`, "--cpu-prof-name=parley"]
  : [];
const command =
  useBinary && !PROFILE ? [binary, "serve"] : [process.execPath, ...profiler, join(ROOT, "src/cli.ts"), "serve"];

/** Spawn to first /readyz 200, in ms: on the embedded database in `dataDir`, or on `DATABASE_URL`. */
async function timeStart(database: { DATA_DIR: string } | { DATABASE_URL: string }): Promise<number> {
  const p = await freePort();
  const started = performance.now();
  const proc = Bun.spawn(command, {
    env: { PATH: process.env.PATH ?? "", PORT: String(p), LOG_LEVEL: "error", ...database },
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitReady(`http://127.0.0.1:${p}/readyz`, proc);
  const ms = performance.now() - started;
  proc.kill("SIGTERM");
  await proc.exited;
  return ms;
}

const startup: Record<string, number> = {};
if (!CHECK) {
  const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
  startup["PGlite, first run (initdb)"] = await timeStart({ DATA_DIR: join(dir, "data") });
  const later = [await timeStart({ DATA_DIR: join(dir, "data") }), await timeStart({ DATA_DIR: join(dir, "data") })];
  startup["PGlite, later runs (best of 2)"] = Math.min(...later);
  rmSync(dir, { recursive: true, force: true });
}
type Instance = { proc: Bun.Subprocess; port: number; base: string };
/** A Parley process on the benchmark's database (instances on one database hear each other). */
async function spawnParley(): Promise<Instance> {
  const port = await freePort();
  const proc = Bun.spawn(command, {
    env: parleyEnv(port, { DATABASE_URL: target.url }, fake.url),
    stdout: "inherit",
    stderr: "inherit",
  });
  return { proc, port, base: `http://127.0.0.1:${port}` };
}
const spawnedAt = performance.now();
const instances = [await spawnParley()];
const { port, base } = instances[0]!;
const relayPort = await freePort();
const relay = spawnRelay(relayPort, fake.url);

// One instance: { parley, relay }. Two: { split, tabOnA, tabOnB, relay }.
const results: Record<string, Result>[] = [];
type IdleGrowth = { firstOpening: number; reopened: number };
let idle: { sockets: number; parley: IdleGrowth; relay: IdleGrowth } | undefined;
let failed = false;
try {
  await waitReady(`${base}/readyz`, instances[0]!.proc);
  startup["Postgres, first run (migrates)"] = performance.now() - spawnedAt;
  // The second starts once the first has migrated the database.
  if (INSTANCES === 2) {
    instances.push(await spawnParley());
    await waitReady(`${instances[1]!.base}/readyz`, instances[1]!.proc);
  }
  const pids = instances.map((p) => p.proc.pid);
  const form = (path: string, fields: Record<string, string>, cookie = "") => postForm(base, path, fields, cookie);
  const database = await openDatabase({ url: target.url, dataDir: "", poolSize: 2 });
  // Postgres runs on this machine in the benchmark's setting; its backends for this database are
  // Parley's (and this client's one connection, idle while streams run).
  const backends = () => backendsOf(database);
  // One person per stream, each with one tab, as on a team.
  const cookies: string[] = [];
  const addPeople = async (n: number) => {
    if (n > cookies.length) cookies.push(...(await signedInPeople(database, n - cookies.length, cookies.length)));
  };
  const chatIds: string[] = [];

  for (const n of LEVELS) {
    // Each stream gets a chat of its own, made by the new-chat form (a short first answer).
    fake.setDefault({ tokenSize: 64 });
    await addPeople(n);
    while (chatIds.length < n) {
      const batch = Math.min(50, n - chatIds.length);
      const made = await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          form("/chats", { content: `chat ${chatIds.length + i}` }, cookies[chatIds.length + i]),
        ),
      );
      for (const res of made) {
        const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")?.[1];
        if (!id) throw new Error(`POST /chats answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        chatIds.push(id);
      }
    }
    for (let i = 0; i < 600; i++) {
      const [row] = await database.rows<{ n: number }>(
        sql`select count(*)::int as n from messages where status = 'streaming'`,
      );
      if (row?.n === 0) break;
      await Bun.sleep(100);
    }
    fake.setDefault({ stampedTokens: TOKENS, tokenDelayMs: TOKEN_MS, firstTokenDelayMs: FIRST_MS });
    const firstTokenOf = (tag: string) => (i: number) =>
      fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`)?.receivedAt;

    /**
     * Every stream sends from its first tab, on the instance `on` says; each tab's figures, once
     * every answer is checked: complete in every tab, and stored whole (what the upstream sent).
     */
    const runParley = async (label: string, tabs: number, on: (i: number, tab: number) => Instance) => {
      const tag = `${label} ${n} ${Date.now()}`;
      const run = await drive({
        n,
        tabs,
        pids,
        backends,
        limitMs,
        open: (i, tab) => {
          const p = on(i, tab);
          return new WebSocket(`ws://127.0.0.1:${p.port}/ws?chat=${chatIds[i]}`, {
            headers: { Origin: p.base, cookie: cookies[i] },
          } as never);
        },
        ready: isChatReady,
        send: (ws, i) => ws.send(JSON.stringify({ action: "send", chat: chatIds[i], content: `${tag} ${i}` })),
        frame: answerFrame(tag),
      });
      const lost: string[] = [];
      for (let i = 0; i < n; i++) {
        const sent = fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`)?.sent;
        const [row] = await database.rows<{ content: string; status: string }>(
          sql`select content, status from messages where chat_id = ${chatIds[i]} and role = 'assistant' order by id desc limit 1`,
        );
        if (!sent || row?.content !== sent || row.status !== "complete") lost.push(chatIds[i]!);
      }
      if (lost.length) {
        failed = true;
        console.log(`${n} streams (${label}): ${lost.length} answers not stored whole (first: chat ${lost[0]})`);
      }
      const perTab = run.tabs.map((streams) => summarise(streams, run, firstTokenOf(tag)));
      perTab.forEach((r, tab) => {
        if (!r.errors) return;
        failed = true;
        const first = run.tabs[tab]!.find((s) => s.failed)?.failed;
        console.log(`${n} streams (${label}, tab ${tab + 1}): ${r.errors} answers not seen whole (first: ${first})`);
      });
      return perTab;
    };

    const runRelay = async () => {
      const tag = `relay ${n} ${Date.now()}`;
      const run = await drive({
        n,
        pids: [relay.pid],
        limitMs,
        open: () => new WebSocket(`ws://127.0.0.1:${relayPort}/`),
        send: (ws, i) => ws.send(JSON.stringify({ content: `${tag} ${i}` })),
        frame: (_ws, m) => ({ stamps: m === "[done]" ? [] : stampsIn(m), done: m === "[done]" }),
      });
      return summarise(run.tabs[0]!, run, firstTokenOf(tag));
    };

    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
    const timing = (r: Result) =>
      `+TTFT ${f(r.addedFirstTokenMs.median)}/${f(r.addedFirstTokenMs.p99)} ms (to upstream ${f(r.addedLegsMs.toUpstream)}, back ${f(r.addedLegsMs.back)}), frame ${f(r.frameLatencyMs.median)}/${f(r.frameLatencyMs.p99)} ms, ${f(r.tokensPerSecond)} tok/s`;
    const cost = (r: Result) =>
      `CPU ${r.processes.map((p) => `${f(p.cpuPercent)}%`).join(" + ")}, RSS ${r.processes.map((p) => f(p.peakRssMb)).join(" + ")} MB`;
    const machine = (r: Result) => `Postgres CPU ${f(r.postgresCpuPercent)}%, machine CPU ${f(r.machineCpuPercent)}%`;
    const share = (r: Result, relayResult: Result) => `${f((r.tokensPerSecond / relayResult.tokensPerSecond) * 100)}%`;
    const level = String(n).padStart(5);
    if (INSTANCES === 1) {
      const [parleyResult] = await runParley("load", 1, () => instances[0]!);
      const relayResult = await runRelay();
      results.push({ parley: parleyResult!, relay: relayResult });
      console.log(
        `${level} streams | Parley: ${timing(parleyResult!)}, ${parleyResult!.errors} errors, ${cost(parleyResult!)}, ${machine(parleyResult!)} | relay: ${timing(relayResult)}, ${cost(relayResult)} | throughput ${share(parleyResult!, relayResult)} of the relay`,
      );
    } else {
      // Half the streams on each instance, each writing its own tabs' answers; then every stream
      // sent from a tab on A with a second tab on B, which sees the answer through the bus.
      const [split] = await runParley("split", 1, (i) => instances[i % 2]!);
      const [tabOnA, tabOnB] = await runParley("second tab", 2, (_i, tab) => instances[tab]!);
      const relayResult = await runRelay();
      results.push({ split: split!, tabOnA: tabOnA!, tabOnB: tabOnB!, relay: relayResult });
      console.log(
        `${level} streams | split over A and B: ${timing(split!)}, ${split!.errors} errors, ${cost(split!)}, ${machine(split!)} | throughput ${share(split!, relayResult)} of the relay`,
      );
      console.log(
        `${level} streams | tab on A (writes): ${timing(tabOnA!)}, ${tabOnA!.errors} errors | second tab on B (through the bus): ${timing(tabOnB!)}, ${tabOnB!.errors} errors | ${cost(tabOnA!)}, ${machine(tabOnA!)} | B's tab: throughput ${share(tabOnB!, relayResult)} of the relay`,
      );
      console.log(
        `${level} streams | relay: ${timing(relayResult)}, ${cost(relayResult)}, machine CPU ${f(relayResult.machineCpuPercent)}%`,
      );
    }
  }
  // Memory per idle connection: RSS growth over IDLE signed-in sockets that only listen. Twice:
  // the first round also counts what the allocator keeps from the work of opening (queries,
  // rendering); the second, after those sockets closed, reuses that and shows what a socket holds.
  if (IDLE) {
    await addPeople(IDLE);
    const growth = async (pid: number, open: (i: number) => WebSocket, readyOn: "open" | "message") => {
      const perSocket: number[] = [];
      for (let round = 0; round < 2; round++) {
        await Bun.sleep(1000);
        const before = usage(pid).rssMb;
        const sockets: WebSocket[] = [];
        let ready = 0;
        for (let i = 0; i < IDLE; i++) {
          const ws = open(i);
          ws.addEventListener(readyOn, () => ready++, { once: true });
          sockets.push(ws);
          if (i % 100 === 99) await Bun.sleep(5);
        }
        for (let i = 0; i < 1200 && ready < IDLE; i++) await Bun.sleep(100);
        await Bun.sleep(1000);
        const after = usage(pid).rssMb;
        for (const ws of sockets) ws.close();
        await Bun.sleep(1000);
        if (ready < IDLE) throw new Error(`only ${ready} of ${IDLE} idle sockets opened`);
        perSocket.push(((after - before) * 1024 * 1024) / IDLE);
      }
      return { firstOpening: perSocket[0]!, reopened: perSocket[1]! };
    };
    idle = {
      sockets: IDLE,
      parley: await growth(
        instances[0]!.proc.pid,
        (i) => new WebSocket(`ws://127.0.0.1:${port}/ws`, { headers: { Origin: base, cookie: cookies[i] } } as never),
        "message", // the chat list it is sent on opening
      ),
      relay: await growth(relay.pid, () => new WebSocket(`ws://127.0.0.1:${relayPort}/`), "open"),
    };
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
    console.log(
      `${IDLE} idle sockets, RSS per socket (first opening / reopened): Parley ${kb(idle.parley.firstOpening)} / ${kb(idle.parley.reopened)}, relay ${kb(idle.relay.firstOpening)} / ${kb(idle.relay.reopened)}`,
    );
  }
  // Timed last: an instance started on the database is heard by the one measured, which then sends
  // its answers' words over the bus for the next half minute (src/bus/notify.ts), as with a peer.
  if (!CHECK) {
    const later = [];
    for (let i = 0; i < 3; i++) later.push(await timeStart({ DATABASE_URL: target.url }));
    startup["Postgres, later runs (best of 3)"] = Math.min(...later);
  }
  if (useBinary) startup["binary size, MiB"] = statSync(binary).size / 1024 / 1024;
  for (const [what, value] of Object.entries(startup)) console.log(`${what.padEnd(32)} ${value.toFixed(1)}`);
  await database.close();
} catch (err) {
  failed = true;
  console.error(`load benchmark failed: ${(err as Error).message}`);
} finally {
  for (const p of instances) p.proc.kill("SIGTERM");
  relay.kill("SIGTERM");
  await Promise.all([...instances.map((p) => p.proc.exited), relay.exited]);
  await fake.stop();
  await target.drop();
  await pg.stop();
}

mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(
  join(import.meta.dir, "results", `load-${Date.now()}.json`),
  JSON.stringify(
    {
      machine: `${navigator.hardwareConcurrency} cores`,
      parley: useBinary ? binary : "sources",
      instances: INSTANCES,
      tokens: TOKENS,
      tokenMs: TOKEN_MS,
      firstTokenMs: FIRST_MS,
      startup,
      results,
      idle,
    },
    null,
    2,
  ),
);
if (CHECK)
  console.log(
    failed ? "load check: FAILED (errors or lost text above)" : "load check: every stream complete and stored whole",
  );
process.exit(failed ? 1 : 0);
