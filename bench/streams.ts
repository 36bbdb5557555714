/**
 * What the streaming benchmarks (load, files-load) share: many signed-in sockets each sending at
 * once and timing the frames that come back, and the CPU and memory of the processes serving them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Database } from "../src/db/client.ts";
import { sessions, users } from "../src/db/schema.ts";
import { nowMicros } from "../test/fake-upstream.ts";

export type Usage = { cpuPercent: number; peakRssMb: number };

export const quantile = (values: number[], q: number) => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** CPU seconds used and resident memory of a process, from /proc. */
export function usage(pid: number): { cpu: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cpu = (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return { cpu, rssMb: Number(rss ?? 0) / 1024 };
}

/** CPU seconds used so far by each process still running, by pid. */
function cpuOf(pids: number[]): Map<number, number> {
  const used = new Map<number, number>();
  for (const pid of pids) {
    try {
      used.set(pid, usage(pid).cpu);
    } catch {
      // ended meanwhile
    }
  }
  return used;
}

/** Busy CPU seconds of all the machine's cores together, from /proc/stat. */
function machineBusy(): number {
  const ticks = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
  const idle = ticks[3]! + ticks[4]!; // idle and iowait
  return (ticks.reduce((a, b) => a + b, 0) - idle) / 100;
}

/**
 * The settings a benchmarked Parley runs with: its database (`DATABASE_URL` or `DATA_DIR`), the
 * fake upstream, and no per-person limit in the way of a thousand sends at once.
 */
export function parleyEnv(port: number, database: Record<string, string>, upstreamUrl: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    PORT: String(port),
    ...database,
    OPENROUTER_BASE_URL: upstreamUrl,
    OPENROUTER_API_KEY: "sk-bench",
    DEFAULT_MODEL: "fake/fast",
    LOG_LEVEL: "warn",
    LOG_FORMAT: "json",
    SENDS_PER_MINUTE: "100000",
    MAX_CONCURRENT_ANSWERS: "100000",
  };
}

/**
 * The bare relay (bench/relay.ts) on `port`. Bun's fetch runs at most 256 requests at once unless
 * told otherwise at start (Parley's upstream client has no such cap): the baseline gets the same room.
 */
export function spawnRelay(port: number, upstreamUrl: string): Bun.Subprocess {
  return Bun.spawn([process.execPath, join(import.meta.dir, "relay.ts")], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      OPENROUTER_BASE_URL: upstreamUrl,
      BUN_CONFIG_MAX_HTTP_REQUESTS: "65535",
    },
    stdout: "ignore",
    stderr: "inherit",
  });
}

/** The Postgres backends serving `database`'s database (Parley's pools and bus), but this client's own. */
export async function backendsOf(database: Database): Promise<number[]> {
  const rows = await database.rows<{ pid: number }>(
    sql`select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
  );
  return rows.map((r) => r.pid);
}

export async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  await probe.stop(true);
  return port;
}

export async function waitReady(url: string, proc: { exitCode: number | null }) {
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

export type Stream = {
  sentAt: number;
  firstAt?: number;
  firstStamp?: number;
  doneAt?: number;
  failed?: string;
  latencies: number[];
};

/**
 * Opens `n` streams of `tabs` sockets each, makes each stream's first socket send (all at once),
 * and times what comes back on every socket. `parse` says, for one incoming message, which stamps
 * it carries and whether the answer ended.
 */
export async function drive(opts: {
  n: number;
  /** Sockets per stream: the first sends, the others are more tabs on the same chat. */
  tabs?: number;
  open: (i: number, tab: number) => WebSocket;
  /** Whether a message shows the socket is ready to send; undefined: ready once open. */
  ready?: (message: string) => boolean;
  frame: (
    w: WebSocket & { answerId?: string },
    message: string,
    i: number,
  ) => { stamps: number[]; done: boolean; error?: string };
  send: (ws: WebSocket, i: number) => void;
  /** When each stream sends, in ms after the first; all at once without it. */
  sendDelayMs?: (i: number) => number;
  /** The server processes whose CPU and memory are measured. */
  pids: number[];
  /** The Postgres backends whose CPU is measured (those connected when the run starts and ends). */
  backends?: () => Promise<number[]>;
  /** How long to wait for every answer to end before counting the rest as timed out. */
  limitMs: number;
}): Promise<{
  tabs: Stream[][];
  processes: Usage[];
  postgresCpuPercent: number;
  machineCpuPercent: number;
  wall: number;
}> {
  const tabCount = opts.tabs ?? 1;
  const total = opts.n * tabCount;
  const senders: WebSocket[] = [];
  const sockets: WebSocket[] = [];
  const tabs = Array.from({ length: tabCount }, () =>
    Array.from({ length: opts.n }, (): Stream => ({ sentAt: 0, latencies: [] })),
  );
  let readyCount = 0;
  const allReady = Promise.withResolvers<void>();
  let doneCount = 0;
  const allDone = Promise.withResolvers<void>();
  const finish = () => {
    if (++doneCount === total) allDone.resolve();
  };
  for (let i = 0; i < opts.n; i++) {
    for (let t = 0; t < tabCount; t++) {
      const ws = opts.open(i, t) as WebSocket & { answerId?: string };
      const s = tabs[t]![i]!;
      let isReady = false;
      const markReady = () => {
        isReady = true;
        if (++readyCount === total) allReady.resolve();
      };
      if (!opts.ready) ws.addEventListener("open", markReady, { once: true });
      ws.addEventListener("message", (event) => {
        const message = String(event.data);
        if (!isReady) {
          if (opts.ready?.(message)) markReady();
          return;
        }
        if (s.doneAt || s.failed) return;
        const now = nowMicros();
        const { stamps, done, error } = opts.frame(ws, message, i);
        if (stamps.length) {
          if (s.firstAt === undefined) {
            s.firstAt = now;
            s.firstStamp = Math.min(...stamps);
          }
          s.latencies.push((now - Math.max(...stamps)) / 1000);
        }
        if (error) s.failed = error;
        if (done) s.doneAt = now;
        if (done || error) finish();
      });
      ws.addEventListener("close", () => {
        if (!s.doneAt && !s.failed && s.sentAt) {
          s.failed = "socket closed";
          finish();
        }
      });
      if (t === 0) senders.push(ws);
      sockets.push(ws);
      if (sockets.length % 50 === 0) await Bun.sleep(10); // do not open a thousand at the same instant
    }
  }
  await Promise.race([allReady.promise, Bun.sleep(60_000).then(() => Promise.reject(new Error("sockets not ready")))]);

  const before = opts.pids.map(usage);
  const peaks = before.map((u) => u.rssMb);
  const sampler = setInterval(() => {
    opts.pids.forEach((pid, p) => {
      peaks[p] = Math.max(peaks[p]!, usage(pid).rssMb);
    });
  }, 100);
  const backendsBefore = cpuOf((await opts.backends?.()) ?? []);
  const busyBefore = machineBusy();
  const started = nowMicros();
  for (let i = 0; i < opts.n; i++) {
    const send = () => {
      const sentAt = nowMicros();
      for (const tab of tabs) tab[i]!.sentAt = sentAt;
      opts.send(senders[i]!, i);
    };
    const delay = opts.sendDelayMs?.(i) ?? 0;
    if (delay > 0) setTimeout(send, delay);
    else send();
  }
  await Promise.race([allDone.promise, Bun.sleep(opts.limitMs)]);
  const wall = (nowMicros() - started) / 1e6;
  const machineCpuPercent = ((machineBusy() - busyBefore) / wall) * 100;
  clearInterval(sampler);
  const after = opts.pids.map(usage);
  let backendSeconds = 0;
  for (const [pid, cpu] of cpuOf((await opts.backends?.()) ?? []))
    backendSeconds += cpu - (backendsBefore.get(pid) ?? 0);
  for (const tab of tabs) for (const s of tab) if (!s.doneAt && !s.failed) s.failed = "timed out";
  for (const ws of sockets) ws.close();
  await Bun.sleep(200);
  const processes = after.map((u, p) => ({
    cpuPercent: ((u.cpu - before[p]!.cpu) / wall) * 100,
    peakRssMb: Math.max(peaks[p]!, u.rssMb),
  }));
  return { tabs, processes, postgresCpuPercent: (backendSeconds / wall) * 100, machineCpuPercent, wall };
}

/** The send times the fake upstream stamped on the tokens of a frame (`w` and 16 digits of microseconds). */
export const stampsIn = (text: string) => [...text.matchAll(/w(\d{16})/g)].map((m) => Number(m[1]));

/** Whether a message on a chat's socket shows it is ready to send: the live transcript it is sent on opening. */
export const isChatReady = (message: string) => message.includes('id="transcript-live"');

/**
 * Reads Parley's socket messages for the answer to the message `${tag} ${i}`: which frames carry
 * its words (and their stamps), when it ended, and whether it failed.
 */
export function answerFrame(tag: string) {
  return (ws: WebSocket & { answerId?: string }, m: string, i: number) => {
    if (!ws.answerId) {
      // The answer is the one announced with this send's message: a tab on B can still hear,
      // late, the bus's events about the chat's first answer, finished before it opened.
      const id = m.includes(`>${tag} ${i}<`)
        ? /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(m)?.[1]
        : undefined;
      if (id) ws.answerId = id;
      const error = /data-kind="error"[^>]*>([^<]+)</.exec(m)?.[1];
      return { stamps: [], done: false, error };
    }
    const done =
      m.includes(`<article id="msg-${ws.answerId}" hx-swap-oob="true"`) && !m.includes('data-status="streaming"');
    const failedAnswer = done && !m.includes('data-status="complete"') ? "answer did not complete" : undefined;
    // A frame replaces the open tail (and adds blocks), or appends the words that grew it.
    const isFrame =
      m.startsWith(`<div id="msg-${ws.answerId}-`) || m.startsWith(`<div hx-swap-oob="beforeend:#msg-${ws.answerId}-`);
    return { stamps: isFrame ? stampsIn(m) : [], done, error: failedAnswer };
  };
}

/**
 * `n` people, each signed in, as session cookies: made in the database directly (these measure
 * streams, not argon2, about 0.3 s per account on our machines), named person<from>, person<from+1>...
 */
export async function signedInPeople(database: Database, n: number, from = 0): Promise<string[]> {
  const passwordHash = await Bun.password.hash("correct horse battery staple", { algorithm: "argon2id" });
  const cookies: string[] = [];
  while (cookies.length < n) {
    const batch = Array.from({ length: Math.min(200, n - cookies.length) }, (_, i) => {
      const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
      const tokenHash = new Bun.CryptoHasher("sha256").update(token).digest("hex");
      return { userId: Bun.randomUUIDv7(), name: `person${from + cookies.length + i}`, token, tokenHash };
    });
    await database.db.insert(users).values(batch.map((p) => ({ id: p.userId, username: p.name, passwordHash })));
    await database.db.insert(sessions).values(batch.map((p) => ({ tokenHash: p.tokenHash, userId: p.userId })));
    for (const p of batch) cookies.push(`parley_session=${p.token}`);
  }
  return cookies;
}
