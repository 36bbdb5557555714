/**
 * `parley backup` of the embedded database while answers stream: a data directory of `--mb=N`
 * (default 200) MB, a Parley process serving it (the sources, or PARLEY_BIN), `--streams=N`
 * answers (default 3) streaming stamped tokens 20 ms apart to their tabs' WebSockets, and the
 * backup command run beside it. It prints, for the second before the backup and while the command
 * runs: the frames' largest gap and latency (arrival minus the stamp of the newest token), and
 * /healthz's slowest answer; then the backup's time and size. Usage: bun bench/backup.ts [--mb=N]
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { fakeEnv, startFakeUpstream } from "../test/fake-upstream.ts";
import { runParley, signInAt, startParley } from "../test/support/process.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const TARGET_MB = arg("mb", 200);
const STREAMS = arg("streams", 3);
const TOKEN_MS = 20;
const PASSWORD = "correct horse battery staple";

const scratch = mkdtempSync(join(tmpdir(), "parley-bench-backup-"));
const dataDir = join(scratch, "data");
const du = (dir: string): number => {
  const out = Bun.spawnSync(["du", "-sm", dir]).stdout.toString();
  return Number(out.split(/\s/)[0]);
};

// The data directory: an account, then chats of messages of ~2 KB of text that does not compress.
const made = await runParley(["user", "create", "ann"], { DATA_DIR: dataDir }, undefined, PASSWORD);
if (made.code !== 0) throw new Error(`user create failed: ${made.stderr}`);
{
  const database = await openDatabase({ url: undefined, dataDir });
  const [ann] = await database.rows<{ id: string }>(sql`select id from users where username = 'ann'`);
  while (du(dataDir) < TARGET_MB) {
    await database.rows(sql`
      with c as (
        insert into chats (id, user_id, title, model)
        select gen_random_uuid(), ${ann!.id}::uuid, 'Filler ' || i, 'fake/fast'
        from generate_series(1, 10) i returning id
      )
      insert into messages (id, chat_id, role, content, status)
      select gen_random_uuid(), c.id, 'user', (select string_agg(md5(random()::text || j || n), '') from generate_series(1, 64) n), 'complete'
      from c, generate_series(1, 1000) j`);
  }
  await database.rows(sql`checkpoint`);
  await database.close();
}
const dataMb = du(dataDir);
console.error(`DATA_DIR filled: ${dataMb} MB`);

const fake = startFakeUpstream();
const server = await startParley({ DATA_DIR: dataDir, ...fakeEnv(fake) });
const base = server.url;
const cookie = await signInAt(base, "ann", PASSWORD);

const wallMs = () => performance.timeOrigin + performance.now();
const stampsIn = (text: string) => [...text.matchAll(/w(\d{16})/g)].map((m) => Number(m[1]) / 1000);
const streams = await Promise.all(
  Array.from({ length: STREAMS }, async () => {
    fake.queue({ stampedTokens: 1_000_000, tokenDelayMs: TOKEN_MS });
    const res = await fetch(`${base}/chats`, {
      method: "POST",
      headers: { cookie, origin: base },
      body: new URLSearchParams({ content: "Stream while the backup runs", model: "fake/fast" }),
      redirect: "manual",
    });
    const chatId = res.headers.get("location")!.split("/").pop()!;
    const ws = new WebSocket(`${base.replace("http", "ws")}/ws?chat=${chatId}`, {
      headers: { cookie, origin: base },
    } as never);
    const arrivals: { at: number; stamp: number }[] = [];
    ws.addEventListener("message", (event) => {
      const stamps = stampsIn(String(event.data));
      if (stamps.length) arrivals.push({ at: wallMs(), stamp: Math.max(...stamps) });
    });
    await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
    return { chatId, ws, arrivals };
  }),
);

const quantile = (values: number[], q: number) => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

/** The streams' frames and /healthz while `during` runs. */
async function observe<T>(during: () => Promise<T>) {
  const from = wallMs();
  let running = true;
  const healthz: number[] = [];
  const probe = (async () => {
    while (running) {
      const start = performance.now();
      await (await fetch(`${base}/healthz`)).arrayBuffer();
      healthz.push(performance.now() - start);
      await Bun.sleep(5);
    }
  })();
  const result = await during();
  const to = wallMs();
  running = false;
  await probe;
  let gapMax = 0;
  const latencies: number[] = [];
  for (const { arrivals } of streams) {
    for (let i = 0; i < arrivals.length; i++) {
      const a = arrivals[i]!;
      if (a.at < from || a.at > to) continue;
      latencies.push(a.at - a.stamp);
      gapMax = Math.max(gapMax, a.at - (i ? arrivals[i - 1]!.at : from));
    }
    const lastIn = arrivals.filter((a) => a.at <= to).at(-1)?.at ?? from;
    gapMax = Math.max(gapMax, to - Math.max(lastIn, from));
  }
  return {
    result,
    seconds: (to - from) / 1000,
    frames: latencies.length,
    gapMaxMs: gapMax,
    latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(0, ...latencies) },
    healthzMaxMs: Math.max(0, ...healthz),
  };
}

await Bun.sleep(1000); // the streams under way
const before = await observe(() => Bun.sleep(1000));
const file = join(scratch, "backup.tar.gz");
const during = await observe(() => runParley(["backup", file], { DATA_DIR: dataDir }));
if (during.result.code !== 0) throw new Error(`backup failed: ${during.result.stderr}`);
const dumped = server.logs.find((l) => l.event === "backup dumped") as { ms?: number } | undefined;

for (const s of streams) {
  s.ws.close();
  await fetch(`${base}/chats/${s.chatId}`, { method: "DELETE", headers: { cookie, origin: base } });
}
await server.stop();
await fake.stop();
const fileMb = statSync(file).size / 1024 / 1024;
rmSync(scratch, { recursive: true, force: true });

const num = (v: number, width: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : "-").padStart(width);
console.log(
  `parley backup of a ${dataMb} MB DATA_DIR from the running server: ${during.seconds.toFixed(1)} s for the command, ` +
    `the server's part ${dumped?.ms ?? "?"} ms; the file ${fileMb.toFixed(1)} MB.`,
);
console.log(`${STREAMS} answers streaming (a token every ${TOKEN_MS} ms), ms:`);
console.log("window     frames  largest gap  latency p50/p99/max   slowest /healthz");
for (const [name, w] of [
  ["before", before],
  ["backup", during],
] as const) {
  console.log(
    `${name.padEnd(10)} ${num(w.frames, 6)} ${num(w.gapMaxMs, 12)} ${`${num(w.latencyMs.p50, 5)}/${num(w.latencyMs.p99, 5)}/${num(w.latencyMs.max, 5)}`.padStart(20)} ${num(w.healthzMaxMs, 18)}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/backup-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, dataMb, fileMb, before, during }, null, 2),
);
process.exit(0);
