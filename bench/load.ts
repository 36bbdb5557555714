/**
 * Many answers streaming at once, through Parley and through a bare relay (bench/relay.ts), on
 * one machine with the fake upstream and the load client. Each stream is one person's signed-in
 * WebSocket on their own chat, sending a message the way the browser does; the fake upstream answers with
 * 200 tokens, 20 ms apart, the first after 100 ms, each stamped with the time it was sent.
 *
 *   bun bench/load.ts                     1, 100, 500 and 1,000 streams, then 5,000 idle sockets
 *                                         (--idle=N); table + bench/results/
 *   bun bench/load.ts --streams=50 --check  CI: exit 1 on any error or lost text, never on a time
 *
 * Uses dist/parley when it exists (else the sources) and the Postgres the tests use.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { sessions, users } from "../src/db/schema.ts";
import { nowMicros, startFakeUpstream } from "../test/fake-upstream.ts";
import { postForm } from "../test/support/http.ts";
import { createDatabase, findPostgres } from "../test/support/postgres.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const LEVELS = (arg("streams") ?? "1,100,500,1000").split(",").map(Number);
const CHECK = process.argv.includes("--check");
const TOKENS = Number(arg("tokens") ?? 200);
const IDLE = Number(arg("idle") ?? (CHECK ? 0 : 5000));
const TOKEN_MS = Number(arg("token-ms") ?? 20);
const FIRST_MS = 100;
const ROOT = resolve(import.meta.dir, "..");
const PASSWORD = "correct horse battery staple";

type Result = {
  streams: number;
  completed: number;
  errors: number;
  addedFirstTokenMs: { median: number; p99: number };
  frameLatencyMs: { median: number; p99: number };
  tokensPerSecond: number;
  cpuPercent: number;
  peakRssMb: number;
};

const quantile = (values: number[], q: number) => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** CPU seconds used and resident memory of a process, from /proc. */
function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return { cpu, rssMb: Number(rss ?? 0) / 1024 };
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}

async function waitReady(url: string, proc: { exitCode: number | null }) {
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`exited (${proc.exitCode}) before ready`);
    const ok = await fetch(url).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await Bun.sleep(50);
  }
  throw new Error(`${url} never answered`);
}

type Stream = {
  sentAt: number;
  firstAt?: number;
  firstStamp?: number;
  doneAt?: number;
  failed?: string;
  latencies: number[];
};

/**
 * Opens `n` sockets, makes them all send at once, and times what comes back. `parse` says, for
 * one incoming message, which stamps it carries and whether the answer ended.
 */
async function drive(opts: {
  n: number;
  open: (i: number) => WebSocket;
  /** Whether a message shows the socket is ready to send; undefined: ready once open. */
  ready?: (message: string) => boolean;
  frame: (w: WebSocket & { answerId?: string }, message: string) => { stamps: number[]; done: boolean; error?: string };
  send: (ws: WebSocket, i: number) => void;
  pid: number;
}): Promise<{ streams: Stream[]; cpu: number; peakRssMb: number; wall: number }> {
  const sockets: (WebSocket & { answerId?: string })[] = [];
  const streams: Stream[] = Array.from({ length: opts.n }, () => ({ sentAt: 0, latencies: [] }));
  let readyCount = 0;
  const allReady = Promise.withResolvers<void>();
  let doneCount = 0;
  const allDone = Promise.withResolvers<void>();
  for (let i = 0; i < opts.n; i++) {
    const ws = opts.open(i) as WebSocket & { answerId?: string };
    let isReady = false;
    const markReady = () => {
      isReady = true;
      if (++readyCount === opts.n) allReady.resolve();
    };
    if (!opts.ready) ws.addEventListener("open", markReady, { once: true });
    ws.addEventListener("message", (event) => {
      const message = String(event.data);
      if (!isReady) {
        if (opts.ready?.(message)) markReady();
        return;
      }
      const s = streams[i]!;
      if (s.doneAt || s.failed) return;
      const now = nowMicros();
      const { stamps, done, error } = opts.frame(ws, message);
      if (stamps.length) {
        if (s.firstAt === undefined) {
          s.firstAt = now;
          s.firstStamp = Math.min(...stamps);
        }
        s.latencies.push((now - Math.max(...stamps)) / 1000);
      }
      if (error) s.failed = error;
      if (done) s.doneAt = now;
      if ((done || error) && ++doneCount === opts.n) allDone.resolve();
    });
    ws.addEventListener("close", () => {
      const s = streams[i]!;
      if (!s.doneAt && !s.failed && s.sentAt) {
        s.failed = "socket closed";
        if (++doneCount === opts.n) allDone.resolve();
      }
    });
    sockets.push(ws);
    if (i % 50 === 49) await Bun.sleep(10); // do not open a thousand at the same instant
  }
  await Promise.race([allReady.promise, Bun.sleep(60_000).then(() => Promise.reject(new Error("sockets not ready")))]);

  const before = usage(opts.pid);
  let peak = before.rssMb;
  const sampler = setInterval(() => {
    peak = Math.max(peak, usage(opts.pid).rssMb);
  }, 100);
  const started = nowMicros();
  for (let i = 0; i < opts.n; i++) {
    streams[i]!.sentAt = nowMicros();
    opts.send(sockets[i]!, i);
  }
  const limit = FIRST_MS + TOKENS * TOKEN_MS * 4 + 30_000;
  await Promise.race([allDone.promise, Bun.sleep(limit)]);
  const wall = (nowMicros() - started) / 1e6;
  clearInterval(sampler);
  const after = usage(opts.pid);
  for (const s of streams) if (!s.doneAt && !s.failed) s.failed = "timed out";
  for (const ws of sockets) ws.close();
  await Bun.sleep(200);
  return { streams, cpu: ((after.cpu - before.cpu) / wall) * 100, peakRssMb: Math.max(peak, after.rssMb), wall };
}

function summarise(
  n: number,
  run: Awaited<ReturnType<typeof drive>>,
  upstreamFirst: (i: number) => number | undefined,
): Result {
  const ok = run.streams.filter((s) => s.doneAt && !s.failed);
  const added = run.streams.flatMap((s, i) => {
    const received = upstreamFirst(i);
    if (s.firstAt === undefined || s.firstStamp === undefined || received === undefined) return [];
    // Client-observed time to first token, minus the upstream's own (request in → first token out).
    return [(s.firstAt - s.sentAt - (s.firstStamp - received)) / 1000];
  });
  const latencies = run.streams.flatMap((s) => s.latencies);
  const lastDone = Math.max(...ok.map((s) => s.doneAt!));
  const firstSent = Math.min(...run.streams.map((s) => s.sentAt));
  return {
    streams: n,
    completed: ok.length,
    errors: n - ok.length,
    addedFirstTokenMs: { median: quantile(added, 0.5), p99: quantile(added, 0.99) },
    frameLatencyMs: { median: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
    tokensPerSecond: ok.length ? (ok.length * TOKENS) / ((lastDone - firstSent) / 1e6) : 0,
    cpuPercent: run.cpu,
    peakRssMb: run.peakRssMb,
  };
}

const stampsIn = (text: string) => [...text.matchAll(/w(\d{16})/g)].map((m) => Number(m[1]));

// ---------------------------------------------------------------------------------------------

const fake = startFakeUpstream();
const pg = await findPostgres();
if (!pg) throw new Error("The load benchmark needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432).");
const target = await createDatabase(pg.adminUrl);
const binary = join(ROOT, "dist", "parley");
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
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const spawnedAt = performance.now();
const parley = Bun.spawn(command, {
  env: {
    PATH: process.env.PATH ?? "",
    PORT: String(port),
    DATABASE_URL: target.url,
    OPENROUTER_BASE_URL: fake.url,
    OPENROUTER_API_KEY: "sk-bench",
    DEFAULT_MODEL: "fake/fast",
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
    SENDS_PER_MINUTE: "100000",
    MAX_CONCURRENT_ANSWERS: "100000",
  },
  stdout: "inherit",
  stderr: "inherit",
});
const relayPort = await freePort();
const relay = Bun.spawn([process.execPath, join(import.meta.dir, "relay.ts")], {
  // Bun's fetch runs at most 256 requests at once unless told otherwise at start (Parley's
  // upstream client has no such cap): the baseline gets the same room.
  env: {
    PATH: process.env.PATH ?? "",
    PORT: String(relayPort),
    OPENROUTER_BASE_URL: fake.url,
    BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
  },
  stdout: "ignore",
  stderr: "inherit",
});

const results: { parley: Result; relay: Result }[] = [];
type IdleGrowth = { firstOpening: number; reopened: number };
let idle: { sockets: number; parley: IdleGrowth; relay: IdleGrowth } | undefined;
let failed = false;
try {
  await waitReady(`${base}/readyz`, parley);
  startup["Postgres, first run (migrates)"] = performance.now() - spawnedAt;
  if (!CHECK) {
    const later = [];
    for (let i = 0; i < 3; i++) later.push(await timeStart({ DATABASE_URL: target.url }));
    startup["Postgres, later runs (best of 3)"] = Math.min(...later);
  }
  if (useBinary) startup["binary size, MiB"] = statSync(binary).size / 1024 / 1024;
  for (const [what, value] of Object.entries(startup)) console.log(`${what.padEnd(32)} ${value.toFixed(1)}`);
  const form = (path: string, fields: Record<string, string>, cookie = "") => postForm(base, path, fields, cookie);
  const database = await openDatabase({ url: target.url, dataDir: "", poolSize: 2 });
  // One person per stream, each with one tab, as on a team. Made in the database directly: this
  // measures streaming, not argon2 (about 0.3 s per account on our machines).
  const passwordHash = await Bun.password.hash(PASSWORD, { algorithm: "argon2id" });
  const cookies: string[] = [];
  const addPeople = async (n: number) => {
    while (cookies.length < n) {
      const batch = Array.from({ length: Math.min(200, n - cookies.length) }, (_, i) => {
        const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
        const tokenHash = new Bun.CryptoHasher("sha256").update(token).digest("hex");
        return { userId: Bun.randomUUIDv7(), name: `person${cookies.length + i}`, token, tokenHash };
      });
      await database.db.insert(users).values(batch.map((p) => ({ id: p.userId, username: p.name, passwordHash })));
      await database.db.insert(sessions).values(batch.map((p) => ({ tokenHash: p.tokenHash, userId: p.userId })));
      for (const p of batch) cookies.push(`parley_session=${p.token}`);
    }
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
    const tag = `load ${n} ${Date.now()}`;
    const upstreamFirst = (i: number) =>
      fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`)?.receivedAt;

    const parleyRun = await drive({
      n,
      pid: parley.pid,
      open: (i) =>
        new WebSocket(`ws://127.0.0.1:${port}/ws?chat=${chatIds[i]}`, {
          headers: { Origin: base, cookie: cookies[i] },
        } as never),
      ready: (m) => m.includes('id="transcript-live"'),
      send: (ws, i) => ws.send(JSON.stringify({ action: "send", chat: chatIds[i], content: `${tag} ${i}` })),
      frame: (ws, m) => {
        if (!ws.answerId) {
          const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(m)?.[1];
          if (id) ws.answerId = id;
          const error = /data-kind="error"[^>]*>([^<]+)</.exec(m)?.[1];
          return { stamps: [], done: false, error };
        }
        const done =
          m.includes(`<article id="msg-${ws.answerId}" hx-swap-oob="true"`) && !m.includes('data-status="streaming"');
        const failedAnswer = done && !m.includes('data-status="complete"') ? "answer did not complete" : undefined;
        // A frame replaces the open tail (and adds blocks), or appends the words that grew it.
        const isFrame =
          m.startsWith(`<div id="msg-${ws.answerId}-`) ||
          m.startsWith(`<div hx-swap-oob="beforeend:#msg-${ws.answerId}-`);
        return { stamps: isFrame ? stampsIn(m) : [], done, error: failedAnswer };
      },
    });
    const parleyResult = summarise(n, parleyRun, upstreamFirst);

    // Every answer must be stored whole: what the upstream sent, exactly.
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
      console.log(`${n} streams: ${lost.length} answers not stored whole (first: chat ${lost[0]})`);
    }
    if (parleyResult.errors) failed = true;

    const relayTag = `relay ${n} ${Date.now()}`;
    const relayRun = await drive({
      n,
      pid: relay.pid,
      open: () => new WebSocket(`ws://127.0.0.1:${relayPort}/`),
      send: (ws, i) => ws.send(JSON.stringify({ content: `${relayTag} ${i}` })),
      frame: (_ws, m) => ({ stamps: m === "[done]" ? [] : stampsIn(m), done: m === "[done]" }),
    });
    const relayResult = summarise(
      n,
      relayRun,
      (i) => fake.requests.find((r) => r.body.messages.at(-1)?.content === `${relayTag} ${i}`)?.receivedAt,
    );
    results.push({ parley: parleyResult, relay: relayResult });
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
    console.log(
      `${String(n).padStart(5)} streams | Parley: +TTFT ${f(parleyResult.addedFirstTokenMs.median)}/${f(parleyResult.addedFirstTokenMs.p99)} ms, frame ${f(parleyResult.frameLatencyMs.median)}/${f(parleyResult.frameLatencyMs.p99)} ms, ${f(parleyResult.tokensPerSecond)} tok/s, ${parleyResult.errors} errors, CPU ${f(parleyResult.cpuPercent)}%, RSS ${f(parleyResult.peakRssMb)} MB | relay: +TTFT ${f(relayResult.addedFirstTokenMs.median)}/${f(relayResult.addedFirstTokenMs.p99)} ms, frame ${f(relayResult.frameLatencyMs.median)}/${f(relayResult.frameLatencyMs.p99)} ms, ${f(relayResult.tokensPerSecond)} tok/s, CPU ${f(relayResult.cpuPercent)}%, RSS ${f(relayResult.peakRssMb)} MB | throughput ${f((parleyResult.tokensPerSecond / relayResult.tokensPerSecond) * 100)}% of the relay`,
    );
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
        parley.pid,
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
  await database.close();
} catch (err) {
  failed = true;
  console.error(`load benchmark failed: ${(err as Error).message}`);
} finally {
  parley.kill("SIGTERM");
  relay.kill("SIGTERM");
  await Promise.all([parley.exited, relay.exited]);
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
      parley: useBinary ? "dist/parley" : "sources",
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
