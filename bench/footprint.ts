/**
 * How much memory Parley holds: the binary (`dist/parley`, `--bin=PATH` another) on the embedded
 * database and on Postgres (when one answers), read from /proc/PID/status. Per driver: a first
 * start (a new DATA_DIR or database) and a later one, each to /readyz and then left alone
 * `--settle` seconds (default 20) with no one signed in: start time, peak (VmHWM) and idle RSS;
 * then, on the later start, the first account, one streamed answer (the fake upstream) and
 * `--tabs` (default 50) signed-in tabs on that chat (its page and its socket), idle, and RSS then.
 * Where this machine lets it make a memory cgroup (v1 or v2), the embedded database's first start
 * and its answer also run in one limited to 512 MB (`docker run --memory=512m`'s limit).
 *
 * `--check` (CI) fails only on a gross regression: a figure of the embedded database over twice
 * the footprint issue's target (idle 150 MB, first-start peak 400 MB, 50 tabs 200 MB), or a
 * process killed in the 512 MB cgroup. Never on noise. It measures the embedded database alone:
 * Postgres's rows judge nothing, and took half a minute of every CI run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeUpstream } from "../test/fake-upstream.ts";
import { postForm } from "../test/support/http.ts";
import { createDatabase, findPostgres } from "../test/support/postgres.ts";
import { openSocket, type TestSocket } from "../test/support/ws.ts";
import { freePort, waitReady } from "./streams.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const CHECK = process.argv.includes("--check");
const BINARY = resolve(arg("bin") ?? join(import.meta.dir, "../dist/parley"));
const SETTLE_S = Number(arg("settle") ?? 20);
const TABS = Number(arg("tabs") ?? 50);
/** The footprint issue's targets for the embedded database, in MB. */
const TARGETS = { idle: 150, firstPeak: 400, tabs: 200 };
const LIMIT_MB = 512;

type Memory = { rssMb: number; peakMb: number };
type Row = { driver: string; start: string; readyMs: number; peakAtReadyMb: number; idle: Memory; tabs?: Memory };

function memoryOf(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? Number.NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

const fake = startFakeUpstream({
  defaults: { tokenDelayMs: 5, text: "A short answer, streamed in pieces. ".repeat(20) },
});

type Started = { proc: Bun.Subprocess; base: string; readyMs: number; peakAtReadyMb: number };

/** The binary on `database`, to its first /readyz 200; `cgroup`, a folder of cgroup.procs to start inside. */
async function start(database: Record<string, string>, cgroup?: string): Promise<Started> {
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? "",
    PORT: String(port),
    LOG_LEVEL: "error",
    OPENROUTER_BASE_URL: fake.url,
    OPENROUTER_API_KEY: "sk-footprint",
    DEFAULT_MODEL: "fake/fast",
    ...database,
  };
  const argv = cgroup ? ["sh", "-c", `echo $$ > ${cgroup}/cgroup.procs && exec "$0" serve`, BINARY] : [BINARY, "serve"];
  const started = performance.now();
  const proc = Bun.spawn(argv, { env, stdout: "ignore", stderr: "inherit" });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/readyz`, proc);
  return { proc, base, readyMs: performance.now() - started, peakAtReadyMb: memoryOf(proc.pid).peakMb };
}

async function stop(proc: Bun.Subprocess) {
  proc.kill("SIGTERM");
  await proc.exited;
}

/** The first account, signed in; one answer streamed on a new chat. Returns the cookie and the chat. */
async function firstChat(base: string): Promise<{ cookie: string; chat: string }> {
  const account = { username: "footprint", password: "correct horse battery staple" };
  await postForm(base, "/setup", account);
  const signin = await postForm(base, "/signin", account);
  const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0]!;
  const sent = await postForm(base, "/chats", { content: "How small can a chat server be?" }, cookie);
  const chat = /\/chats\/([0-9a-f-]+)$/.exec(sent.headers.get("location") ?? "")?.[1];
  if (!cookie || !chat) throw new Error(`could not sign in and send (sign-in ${signin.status}, send ${sent.status})`);
  const ws = await openSocket(base, `/ws?chat=${chat}`, { cookie });
  const whole = (html: string) =>
    /<article id="msg-[^"]+" hx-swap-oob="true"/.test(html) &&
    html.includes("streamed in pieces") &&
    !html.includes('data-status="streaming"');
  await ws.waitFor(whole, { timeoutMs: 30_000 });
  await ws.close();
  return { cookie, chat };
}

/** `TABS` tabs of one person on one chat: the page loaded, then its socket, left open. */
async function openTabs(base: string, cookie: string, chat: string): Promise<TestSocket[]> {
  const tabs: TestSocket[] = [];
  for (let i = 0; i < TABS; i++) {
    const page = await fetch(`${base}/chats/${chat}`, { headers: { cookie } });
    if (!page.ok) throw new Error(`a tab's page answered ${page.status}`);
    await page.text();
    tabs.push(await openSocket(base, `/ws?chat=${chat}`, { cookie }));
  }
  return tabs;
}

async function measure(driver: string, database: () => Record<string, string>): Promise<Row[]> {
  const rows: Row[] = [];
  const settings = database();
  for (const label of ["first", "later"]) {
    const s = await start(settings);
    await Bun.sleep(SETTLE_S * 1000);
    const row: Row = {
      driver,
      start: label,
      readyMs: s.readyMs,
      peakAtReadyMb: s.peakAtReadyMb,
      idle: memoryOf(s.proc.pid),
    };
    if (label === "later" && TABS > 0) {
      const { cookie, chat } = await firstChat(s.base);
      const tabs = await openTabs(s.base, cookie, chat);
      await Bun.sleep((SETTLE_S * 1000) / 2);
      row.tabs = memoryOf(s.proc.pid);
      await Promise.all(tabs.map((t) => t.close()));
    }
    await stop(s.proc);
    rows.push(row);
  }
  return rows;
}

/** A memory cgroup of LIMIT_MB this process may put a child in (v2, else v1), or undefined. */
function limitedCgroup(): { dir: string; peakMb: () => number; killed: () => boolean; remove: () => void } | undefined {
  const name = `parley-footprint-${process.pid}`;
  const tries = [
    { root: "/sys/fs/cgroup", limit: "memory.max", peak: "memory.peak", events: "memory.events" },
    {
      root: "/sys/fs/cgroup/memory",
      limit: "memory.limit_in_bytes",
      peak: "memory.max_usage_in_bytes",
      events: "memory.oom_control",
    },
  ];
  for (const t of tries) {
    const dir = join(t.root, name);
    try {
      mkdirSync(dir);
      // A folder made where no cgroup file system is mounted is only a folder.
      if (!existsSync(join(dir, "cgroup.procs"))) throw new Error("not a cgroup");
      writeFileSync(join(dir, t.limit), String(LIMIT_MB * 1024 * 1024));
    } catch {
      rmSync(dir, { force: true, recursive: true });
      continue;
    }
    const read = (file: string) => readFileSync(join(dir, file), "utf8");
    return {
      dir,
      peakMb: () => Number(read(t.peak).trim()) / 1024 / 1024,
      killed: () => /oom_kill [1-9]/.test(read(t.events)),
      remove: () => rmdirSync(dir),
    };
  }
  return undefined;
}

const rows: Row[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "parley-footprint-"));
let limited: { peakMb: number; killed: boolean; answered: boolean } | string = "no memory cgroup could be made here";
try {
  rows.push(...(await measure("PGlite", () => ({ DATA_DIR: join(dataDir, "data") }))));
  const cgroup = limitedCgroup();
  if (cgroup) {
    let answered = false;
    try {
      const s = await start({ DATA_DIR: join(dataDir, "limited") }, cgroup.dir);
      answered = !!(await firstChat(s.base).catch(() => undefined));
      await stop(s.proc);
    } catch (err) {
      console.log(`in the ${LIMIT_MB} MB cgroup: ${err}`);
    }
    limited = { peakMb: cgroup.peakMb(), killed: cgroup.killed(), answered };
    cgroup.remove();
  }
  const server = CHECK ? undefined : await findPostgres();
  if (server) {
    const created = await createDatabase(server.adminUrl);
    rows.push(...(await measure("Postgres", () => ({ DATABASE_URL: created.url }))));
    await created.drop();
    await server.stop();
  }
} finally {
  fake.stop();
  rmSync(dataDir, { recursive: true, force: true });
}

const mb = (n: number | undefined) => (n === undefined ? "" : `${Math.round(n)} MB`);
console.log(`\nFootprint of ${BINARY} (idle: ${SETTLE_S} s after ready, no one signed in; tabs: ${TABS} on one chat)`);
console.log("driver    start   ready ms   peak at ready   idle RSS   peak so far   RSS with tabs   peak with tabs");
for (const r of rows) {
  console.log(
    [
      r.driver.padEnd(9),
      r.start.padEnd(6),
      String(Math.round(r.readyMs)).padStart(9),
      mb(r.peakAtReadyMb).padStart(15),
      mb(r.idle.rssMb).padStart(10),
      mb(r.idle.peakMb).padStart(13),
      mb(r.tabs?.rssMb).padStart(15),
      mb(r.tabs?.peakMb).padStart(16),
    ].join(" "),
  );
}
console.log(
  typeof limited === "string"
    ? `${LIMIT_MB} MB cgroup: skipped (${limited})`
    : `${LIMIT_MB} MB cgroup, embedded database, first start and one answer: ${limited.answered ? "answered" : "NOT answered"}, ${limited.killed ? "KILLED for memory" : "never killed"}, cgroup peak ${mb(limited.peakMb)} (page cache included)`,
);
const resultsDir = join(import.meta.dir, "results");
mkdirSync(resultsDir, { recursive: true });
writeFileSync(
  join(resultsDir, "footprint.json"),
  JSON.stringify({ at: new Date().toISOString(), rows, limited }, null, 2),
);

if (CHECK) {
  const first = rows.find((r) => r.driver === "PGlite" && r.start === "first")!;
  const later = rows.find((r) => r.driver === "PGlite" && r.start === "later")!;
  const gross: string[] = [];
  if (first.idle.peakMb > 2 * TARGETS.firstPeak) gross.push(`first-start peak ${mb(first.idle.peakMb)}`);
  if (later.idle.rssMb > 2 * TARGETS.idle) gross.push(`idle RSS ${mb(later.idle.rssMb)}`);
  if (later.tabs && later.tabs.rssMb > 2 * TARGETS.tabs) gross.push(`RSS with ${TABS} tabs ${mb(later.tabs.rssMb)}`);
  if (typeof limited !== "string" && (limited.killed || !limited.answered)) gross.push(`the ${LIMIT_MB} MB cgroup run`);
  if (gross.length) {
    console.log(`footprint check FAILED (over twice the target): ${gross.join("; ")}`);
    process.exit(1);
  }
  console.log("footprint check passed (fails only past twice the targets)");
}
process.exit(0);
