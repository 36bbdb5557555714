/**
 * What our database drivers do under real faults, measured (see test/support/faults.ts for the
 * figures of the last run and the helpers). Prints; asserts nothing.
 *   bun bench/db-faults.ts [postgres-js|pglite-disk|postgres-disk] [--watch-ms=20000]
 * The disk parts need root (a tmpfs is mounted).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { dumpPglite } from "../src/backup/format.ts";
import { openDatabase, postgresOptions } from "../src/db/client.ts";
import { messages, users } from "../src/db/schema.ts";
import { pgliteTemplate } from "../test/support/db.ts";
import {
  mountSmallDisk,
  noise,
  pgliteWithAnswer,
  startCluster,
  startTcpProxy,
  unmountOrphans,
} from "../test/support/faults.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const watchMs = arg("watch-ms", 20_000);
const only = process.argv.slice(2).find((a) => !a.startsWith("--"));
const since = (t: number) => `${Math.round(performance.now() - t)} ms`;

/** An error as the driver gave it: class, code, severity, message, and what drizzle wrapped. */
function describe(err: unknown): string {
  const e = err as Record<string, unknown> & { cause?: unknown };
  const own = `${e?.constructor?.name} code=${e?.code} ${e?.severity ?? ""} "${String(e?.message).split("\n")[0]?.slice(0, 140)}"`;
  return e?.cause ? `${own}\n      cause: ${describe(e.cause)}` : own;
}
async function attempt(label: string, run: () => PromiseLike<unknown>, timeoutMs = watchMs) {
  const t = performance.now();
  const result = await Promise.race([
    Promise.resolve()
      .then(run)
      .then(
        () => "ok",
        (err) => `FAILED ${describe(err)}`,
      ),
    Bun.sleep(timeoutMs).then(() => `still pending after ${timeoutMs} ms`),
  ]);
  console.log(`  ${label}: ${since(t)}: ${result}`);
  return result;
}

/** postgres.js configured as src/db/client.ts does, while the server stops, is cut off or blackholed. */
async function postgresJs() {
  for (const fault of ["stop -m fast", "stop -m immediate", "proxy cut()", "proxy blackhole()"] as const) {
    console.log(`postgres.js (as src/db/client.ts sets it up), ${fault}:`);
    const cluster = await startCluster();
    const proxy = startTcpProxy(cluster.adminUrl);
    const url = fault.startsWith("proxy") ? proxy.url(cluster.adminUrl) : cluster.adminUrl;
    const sql = postgres(url, postgresOptions(10));
    await Promise.all(Array.from({ length: 10 }, () => sql`select pg_sleep(0.05)`));
    const inFlight = attempt("query in flight", () => sql`select pg_sleep(3)`);
    await Bun.sleep(200);
    if (fault === "stop -m fast") await cluster.stop("fast");
    else if (fault === "stop -m immediate") await cluster.stop("immediate");
    else if (fault === "proxy cut()") proxy.cut();
    else proxy.blackhole();
    const down = performance.now();
    await inFlight;
    // One after the other, as requests arrive: how long each waits grows with the reconnect backoff.
    while (performance.now() - down < watchMs) {
      const result = await attempt(`query at +${since(down)}`, () => sql`select 1`);
      if (result.startsWith("still")) break;
    }
    if (fault.startsWith("stop")) await cluster.start();
    else proxy.restore();
    const back = performance.now();
    for (let i = 0; i < 3; i++) {
      const result = await attempt(`query after the server is back, at +${since(back)}`, () => sql`select 1`, 30_000);
      if (result === "ok") break;
    }
    await sql.end({ timeout: 1 });
    proxy.stop();
    await cluster.destroy();
  }
}

/** PGlite (through openDatabase) with DATA_DIR on a small tmpfs that fills. */
async function pgliteDisk() {
  console.log("PGlite, DATA_DIR on a 64 MB tmpfs, filled:");
  const disk = mountSmallDisk(64);
  const dataDir = join(disk.path, "data");
  const answering = await pgliteWithAnswer(dataDir);
  let database = answering.database;
  const { chat } = answering;
  // Through whichever instance is open: the last one is reopened on the same folder.
  const save = (content: string) => answering.save(content, database);
  disk.fill();
  await attempt("progress save of 100 KB (drizzle)", () => save(noise(75_000)));
  await attempt("small insert (fits a page already there)", () =>
    database.db.insert(messages).values({ chatId: chat.id, role: "user", content: "hi" }),
  );
  await attempt("read", () => database.db.select().from(messages));
  await attempt("analyze", () => database.pglite!.exec("analyze"));
  disk.free();
  await attempt("progress save after free()", () => save(noise(75_000)));
  await database.close();
  console.log(`  restart on a full disk (fill(0), then fill(${64 * 1024}) leaving room for the lock file):`);
  disk.fill();
  await attempt("open", async () => (database = await openDatabase({ url: undefined, dataDir })));
  disk.free();
  disk.fill(64 * 1024);
  await attempt("open", async () => (database = await openDatabase({ url: undefined, dataDir })));
  await attempt("small update", () => database.db.update(messages).set({ status: "interrupted" }));
  await attempt("update of 100 KB", () => save(noise(75_000)));
  await database.close();
  disk.free();
  disk.unmount();
  // A checkpoint on a full disk PANICs inside the WASM: run it where it can be killed.
  console.log("  a checkpoint (as `parley backup` runs one) on a full disk, in a child process:");
  const child = Bun.spawn([process.execPath, import.meta.path, "--panic-child"], { stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await new Response(child.stdout).text();
  clearTimeout(timer);
  console.log(out.replace(/^/gm, "    ").trimEnd());
  console.log(`    child exit: ${await child.exited}${child.signalCode ? ` (${child.signalCode}: wedged)` : ""}`);
  unmountOrphans();
}

async function panicChild() {
  const disk = mountSmallDisk(64);
  const dataDir = join(disk.path, "data");
  mkdirSync(dataDir);
  const database = await openDatabase({ url: undefined, dataDir, loadDataDir: await pgliteTemplate() });
  await database.db.insert(users).values({ username: "ann", passwordHash: "x" });
  disk.fill();
  let ticks = 0;
  setInterval(() => ticks++, 100);
  await attempt("backup's dump (checkpoint first)", () => dumpPglite(database.pglite!, dataDir), 5000);
  await attempt("select the one user (drizzle)", async () => {
    const rows = await database.db.select().from(users);
    if (rows.length !== 1) throw new Error(`wrong answer: ${rows.length} rows`);
  });
  const before = ticks;
  setTimeout(() => console.log(`  (timers still run: ${ticks - before} ticks)`), 1000);
  await attempt("select 1", () => database.pglite!.query("select 1"), 5000);
  process.exit(0);
}

/** A Postgres cluster whose data directory is on a small tmpfs that fills. */
async function postgresDisk() {
  console.log("Postgres 15, whole cluster on a 128 MB tmpfs, filled:");
  const disk = mountSmallDisk(128);
  const cluster = await startCluster({ parent: disk.path });
  const sql = postgres(cluster.adminUrl, { max: 2, connect_timeout: 10, backoff: () => 0, onnotice: () => {} });
  await sql`create table m (id int primary key, content text, lease timestamptz)`;
  await sql`insert into m values (1, 'x')`;
  disk.fill();
  await attempt("insert of 200 KB", () => sql`insert into m values (2, ${noise(150_000)})`);
  const t = performance.now();
  let updates = 0;
  for (; updates < 200_000; updates++) {
    const failed = await sql`update m set lease = now() where id = 1`.then(
      () => undefined,
      (err) => err,
    );
    if (failed) {
      console.log(
        `  small updates: ${updates} succeeded (${since(t)}), then: ${describe(failed)}; DETAIL ${failed.detail}`,
      );
      break;
    }
  }
  await attempt("read", () => sql`select count(*) from m`);
  await attempt("checkpoint", () => sql`checkpoint`);
  await Bun.sleep(2000);
  await attempt("read 2 s later", () => sql`select count(*) from m`);
  console.log(
    cluster
      .log()
      .split("\n")
      .filter((l) => /PANIC|FATAL: {2}could not|terminated by|shutting down|is shut down/.test(l))
      .map((l) => `    server: ${l.replace(/^\S+ \S+ \S+ \[\d+\] /, "")}`)
      .join("\n"),
  );
  disk.free();
  await attempt("read after free()", () => sql`select count(*) from m`);
  // The server shut itself down: nothing brings it back but a start.
  await attempt("pg_ctl start after free()", () => cluster.start());
  await attempt("first query after the start", () => sql`select count(*) from m`);
  await attempt("second query", () => sql`select count(*) from m`);
  await sql.end({ timeout: 1 });
  await cluster.destroy();
  disk.unmount();
}

if (process.argv.includes("--panic-child")) await panicChild();
if (!only || only === "postgres-js") await postgresJs();
if (!only || only === "pglite-disk") await pgliteDisk();
if (!only || only === "postgres-disk") await postgresDisk();
process.exit(0);
