/**
 * Real faults for tests: a Postgres that goes away (pg-cluster.ts), a network that fails
 * (tcp-proxy.ts), a disk that fills (small-disk.ts). `bun bench/db-faults.ts` measures again.
 *
 * Measured (2-core machine, Postgres 15.20, postgres.js 3.4.9, PGlite 0.5.16, Bun 1.4.5):
 *
 * Costs: initdb + start of a throwaway cluster 1.1-1.4 s; stop 120-145 ms (fast or immediate);
 * start 260-300 ms after fast, 365-580 ms after immediate (WAL replay). PGlite on a tmpfs from
 * the migrated template: 1.2-1.9 s (3.5 s on a loaded machine).
 *
 * postgres.js, configured as src/db/client.ts does (max 10, connect_timeout 10):
 * - Server stopped (fast or immediate): a query in flight fails CONNECTION_CLOSED ("write
 *   CONNECTION_CLOSED host:port") within ~100 ms; fast's FATAL 57P01 is swallowed. Later
 *   queries fail ECONNREFUSED, but each waits out the reconnect backoff first:
 *   (0.5-1) x min(3^n / 100, 20) s, n = connection errors in the whole pool since its last
 *   successful connect. Measured waits 0-2 ms for the first ten, then growing (0.1, 0.3, 0.9,
 *   1.6, 4.6, 5.7, 9.2, 12.4 s), 10-20 s each once n >= 7: this, not connect_timeout, is the
 *   8-17 s hang of /readyz and pages in issue 17 (each statement waits, then fails ECONNREFUSED).
 *   Through openDatabase today: statements still wait 10-17 s; health.check() answers in 800 ms
 *   but says "it did not answer within 800 ms" (its probe waits in the backoff too). It
 *   also delays the recovery: the first query after the server is back waited 3.4-9.9 s. With
 *   `backoff: () => 0` failures take 1-2 ms and the first query after a start succeeds at once.
 * - The first query on a connection made after the server came back can fail with the error the
 *   server sent before it went (postgres.js keeps it): 57P01 FATAL "terminating connection due to
 *   administrator command" after a fast stop, 53100 PANIC after a crash. Then it works.
 * - proxy cut() (RST): the query in flight fails ECONNRESET ("read ECONNRESET"); later ones
 *   ECONNREFUSED after the backoff. A query issued between a socket's 'error' and its 'close'
 *   (Bun emits every socket's error first) is written to a dead socket and NEVER settles: seen
 *   pending for 40 s and until sql.end(). Same family as porsager/postgres#1130 (end() hangs after
 *   ECONNRESET). After restore() the first query once failed CONNECT_TIMEOUT after 10.0 s (2 runs
 *   in ~8), then all worked. cut("close") (FIN) fails the query in flight with CONNECTION_CLOSED.
 * - proxy blackhole(): queries on open connections hang with no bound at all (statement_timeout
 *   does not help: the server never hears them); through a local proxy TCP never times out either
 *   (a real dead network: tcp_retries2, ~15 min). New connections fail CONNECT_TIMEOUT ("write
 *   CONNECT_TIMEOUT host:port") after exactly connect_timeout (10.0 s); with idle_timeout set,
 *   idle connections close and queries then get that bound. Only a timeout of our own bounds a
 *   query on an open connection. After restore() the held query is answered.
 * - drizzle wraps every failure as DrizzleQueryError, message "Failed query: <sql>\nparams:
 *   <every parameter, joined by commas>" (people's text), with .query, .params, and the driver's
 *   error as .cause. openDatabase on a stopped server: ConfigError in ~100 ms.
 *
 * PGlite with DATA_DIR on a full disk (PGlite runs --single -F: fsync off):
 * - A write that needs a new page (a progress save of a growing answer, a 200 KB insert, analyze)
 *   fails: DatabaseError (minified class), code 53100, severity ERROR, "could not extend file
 *   \"base/5/16511\": No space left on device", hint "Check free disk space.", routine
 *   mdzeroextend. Never code ENOSPC. Writes that fit pages already there (small inserts, small
 *   updates) still succeed, until ~66,800 transactions later every write fails 53100 "could not
 *   access status of transaction 0" with the ENOSPC only in .detail ("Could not write to file
 *   \"pg_subtrans/0000\" at offset 8192: No space left on device.").
 * - Reads keep working; after free() writes work again in the same instance.
 * - A CHECKPOINT (src/backup/format.ts runs one before every dump; a standalone backend also runs
 *   one itself after max_wal_size, 1 GB, of WAL: not measured) fails 53100 PANIC "could not write to file
 *   \"pg_logical/replorigin_checkpoint.tmp\": No space left on device", and the instance is then
 *   broken without saying so: the next query answers WRONG (a select of an existing row returned
 *   [] rows), the one after spins the CPU forever inside WASM, blocking the event loop (no timer
 *   fires, a SIGTERM handler never runs; only SIGKILL ends it). Nothing committed is lost: a
 *   restart after free() has every row. close() and dumpDataDir() alone on a full disk: ok.
 * - Restart on a full disk: with 0 bytes free, openDatabase fails at the lock file: ConfigError
 *   "Could not lock DATA_DIR (...): the disk is full (No space left on device)." With 8-64 KB free
 *   it opens and migrates, and the first write needing a page fails as above (drizzle's message
 *   then holds the parameters; the cause, 53100, holds "No space left on device").
 *
 * Postgres with its cluster on a full disk (practical: a 128 MB tmpfs, initdb + start 1.1-1.9 s):
 * - The same two errors as PGlite (53100 "could not extend file", after 66,857 small updates
 *   53100 "could not access status of transaction 0"); reads keep working.
 * - A checkpoint PANICs (measured with CHECKPOINT; the timed one, every 5 min after a write,
 *   writes the same file: not measured):
 *   the checkpointer aborts, every connection is cut (CONNECTION_CLOSED), 57P03 "the database
 *   system is in recovery mode", recovery itself cannot write WAL (FATAL "could not write to file
 *   \"pg_wal/xlogtemp.N\": No space left on device") and the server SHUTS DOWN: ECONNREFUSED,
 *   and it stays down after space is freed until someone starts it (pg_ctl start: ~250-350 ms).
 * - pg_wal alone on a 48 MB tmpfs: 96,605 small updates, then the writing backend PANICs (the
 *   same xlogtemp FATAL in recovery) and the server shuts down the same way.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdirSync } from "node:fs";
import { eq } from "drizzle-orm";
import postgres from "postgres";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { chats, messages, users } from "../../src/db/schema.ts";
import type { GenerationTiming } from "../../src/llm/generations.ts";
import type { Logger } from "../../src/log.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { freshDatabase, pgliteTemplate, type TestDb } from "./db.ts";
import { startTestServer, type TestServer } from "./server.ts";

export * from "./pg-cluster.ts";
export * from "./small-disk.ts";
export * from "./tcp-proxy.ts";

/**
 * One test database on the shared server that can go away and come back, as a restart or a
 * failover looks to a pool: `cut()` refuses new connections and terminates the open ones (FATAL
 * 57P01, then "not currently accepting connections"), `reopen()` lets them in again. Cheaper than
 * a cluster of its own, and it leaves the other suites' databases alone.
 */
export function switchableDatabase(url: string) {
  const name = new URL(url).pathname.slice(1);
  const admin = postgres(process.env.PARLEY_TEST_PG_ADMIN!, { max: 1, onnotice: () => {} });
  return {
    async cut() {
      await admin.unsafe(`alter database ${name} allow_connections false`);
      await admin.unsafe(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`,
      );
    },
    reopen: () => admin.unsafe(`alter database ${name} allow_connections true`).then(() => {}),
    async close() {
      await this.reopen();
      await admin.end();
    },
  };
}

export type SwitchableDatabase = ReturnType<typeof switchableDatabase>;

/** What an outage suite works with: its database, the switch that cuts it, the fake upstream, a server on both. */
export type Outage = {
  t: TestDb;
  db: SwitchableDatabase;
  fake: FakeUpstream;
  server: TestServer;
  /** The database goes away (see switchableDatabase). */
  cut(): Promise<void>;
  /** It comes back. */
  reopen(): Promise<void>;
};

type OutageOptions = { log?: Logger; timing?: GenerationTiming };

/**
 * The setup of a suite in which Postgres goes away mid-answer and comes back: a fresh database on
 * the shared server that can be cut and reopened, the fake upstream, and a test server on both
 * (`server: false`: none, for a suite whose Parley is a process of its own).
 * Call it inside a `describe` (Postgres only): it registers the suite's beforeAll and afterAll, and
 * the fields of what it returns are there once beforeAll has run.
 */
export function outageFixture(opts: OutageOptions & { server: false }): Omit<Outage, "server">;
export function outageFixture(opts?: OutageOptions): Outage;
export function outageFixture(opts: OutageOptions & { server?: false } = {}): Outage {
  const outage = {
    cut: () => outage.db.cut(),
    reopen: () => outage.db.reopen(),
  } as Outage;
  beforeAll(async () => {
    outage.t = await freshDatabase("postgres");
    outage.db = switchableDatabase(outage.t.url!);
    outage.fake = startFakeUpstream();
    if (opts.server !== false) outage.server = await startTestServer(outage.t, fakeEnv(outage.fake), opts);
  });
  afterAll(async () => {
    await outage.db.close();
    await outage.server?.stop();
    outage.fake.stop();
    await outage.t.close();
  });
  return outage;
}

/** Text that does not compress: it needs as much new room on disk as its length. */
export const noise = (length: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(length))).toString("base64");

/**
 * PGlite in a new folder `dataDir` (on a small disk, say), migrated, with one person, a chat and
 * an answer being written; `save(content)` writes the answer's text as a progress save does
 * (through another instance on the same folder if given one, as after a restart).
 */
export async function pgliteWithAnswer(dataDir: string) {
  mkdirSync(dataDir);
  const database = await openDatabase({ url: undefined, dataDir, loadDataDir: await pgliteTemplate() });
  const [user] = await database.db.insert(users).values({ username: "ann", passwordHash: "x" }).returning();
  const [chat] = await database.db.insert(chats).values({ userId: user!.id, model: "m" }).returning();
  const [answer] = await database.db
    .insert(messages)
    .values({ chatId: chat!.id, role: "assistant", status: "streaming" })
    .returning();
  const save = (content: string, on: Database = database) =>
    on.db.update(messages).set({ content }).where(eq(messages.id, answer!.id));
  return { database, chat: chat!, answer: answer!, save };
}
