import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { PGlite, types } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { ConfigError, redactUrl, settings } from "../config.ts";
import { describeDbError } from "./errors.ts";
import { createDbHealth, type DbHealth } from "./health.ts";
import { compiledWasm, fileBundle, forgetLeftOut } from "./pglite-runtime.ts";
import { isAlive } from "./pid.ts";
import * as schema from "./schema.ts";
import { unpackDataDir, unpackedInPart } from "./unpack.ts";
import { createZeroPageRelease } from "./zero-pages.ts";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** One database, whichever driver is behind it. */
export type Database = {
  driver: "pglite" | "postgres";
  db: Db;
  /** The Postgres server's URL, for connections of their own (the event bus's). */
  url?: string;
  /** Raw SQL returning rows; hides that PGlite answers `{ rows }` and postgres.js an array. */
  rows<T extends Record<string, unknown>>(query: SQL): Promise<T[]>;
  close(): Promise<void>;
  /** How busy the connections are, for /metrics. */
  load: DbLoad;
  /** Whether the database can serve now, from what its statements did (pages and /readyz fail fast). */
  health: DbHealth;
  /** The embedded database itself, for what only PGlite can do (dumping its data directory). */
  pglite?: PGlite;
  /**
   * PGlite only, on Linux: gives back its memory's pages that hold only zeros, when the process
   * is quiet (idle-collection.ts; db/zero-pages.ts). Answers the bytes given back.
   */
  releaseZeroPages?: () => number;
};

export type DatabaseOptions = {
  /** A postgres:// URL, or undefined for the embedded database. */
  url: string | undefined;
  /** Where PGlite keeps its files; `memory://` keeps them in memory (tests). */
  dataDir: string;
  /** PGlite only: start from a data directory dump instead of running initdb (tests, a restore). */
  loadDataDir?: Blob;
  /**
   * PGlite only: a new (empty) DATA_DIR starts from this dump, made at build time with every
   * migration applied (src/db/template.ts), instead of running initdb. An existing one is opened as it is.
   */
  template?: Blob;
  /** PGlite only: its page cache (shared_buffers) in MB; DATA_CACHE_MB. */
  cacheMb?: number;
  poolSize?: number;
  /** Where the URL came from, for the sentence when it does not connect (a command's option). */
  urlName?: string;
};

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  return opts.url ? openPostgres(opts.url, opts.poolSize ?? 10, opts.urlName) : openPglite(opts);
}

/**
 * How Parley's pool talks to Postgres (exported so bench/db-faults.ts measures the same). The
 * driver is patched on install (patches/postgres+3.4.9.patch): unpatched, a connection that died
 * mid-statement failed or hung its next statements after reconnecting (docs/architecture.md).
 */
export function postgresOptions(poolSize: number): postgres.Options<Record<string, postgres.PostgresType>> {
  return {
    max: poolSize,
    onnotice: () => {},
    connect_timeout: 10,
    // Reconnecting waits at most a second: postgres.js's own backoff grows to 10-20 s after a few
    // failed connects (every query waited that long once Postgres was back). The health gate
    // keeps requests from hammering a database that is down.
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // JIT compiling pays off for long analytic queries; for Parley's short ones it cost more than
    // the query (a search over 100,000 messages: 180 ms with JIT, 10 ms without).
    connection: { application_name: "parley", jit: "off" },
  };
}

async function openPostgres(url: string, poolSize: number, urlName = "DATABASE_URL"): Promise<Database> {
  const client = postgres(url, postgresOptions(poolSize));
  try {
    await client`select 1`;
  } catch (err) {
    await client.end({ timeout: 0 }).catch(() => {});
    throw new ConfigError(
      `Could not connect to the database at ${urlName} (${redactUrl(url)}): ${describeDbError(err)}.`,
    );
  }
  return { ...fromPostgresClient(client, poolSize), url };
}

/** Wraps a postgres.js client (the pool, or a dedicated connection) as a Database. */
export function fromPostgresClient(client: postgres.Sql, connections = 1): Database {
  // Tracked before drizzle sees the client: drizzle runs every statement through `unsafe` and every transaction through `begin`.
  const health = createDbHealth((ms) => within(ms, client`select 1`), { stallMs: STALL_MS });
  const load = trackLoad(client, ["unsafe", "begin"], connections, health);
  const db = drizzlePostgres(client, { schema }) as unknown as Db;
  return {
    driver: "postgres",
    db,
    load,
    health,
    rows: async <T>(query: SQL) => (await db.execute(query)) as unknown as T[],
    close: once(() => {
      health.close();
      return client.end({ timeout: 5 });
    }),
  };
}

async function openPglite(opts: DatabaseOptions): Promise<Database> {
  const inMemory = opts.dataDir.startsWith("memory://");
  const dir = inMemory ? opts.dataDir : resolve(opts.dataDir);
  const fresh = !inMemory && (!hasFiles(dir) || unpackedInPart(dir));
  if (!inMemory) prepareDataDir(dir);
  const unlock = inMemory ? () => {} : lockDataDir(dir);
  let client: PGlite;
  try {
    // initdb runs only for a database made from nothing: neither a dump nor the build's template.
    const initdb = !opts.loadDataDir && (inMemory || (fresh && !opts.template));
    const compiling = compiledWasm(initdb);
    // Unpacked while the WebAssembly compiles (on the engine's own threads).
    const bundle = fileBundle(!initdb);
    if (fresh && opts.template && !opts.loadDataDir) await unpackDataDir(opts.template, dir, [LOCK_FILE]);
    client = await PGlite.create(inMemory ? undefined : dir, {
      ...(await compiling),
      fsBundle: bundle,
      // Postgres's default cache of 128 MB is taken (and zeroed) at start: it was over a third of
      // an idle Parley (docs/footprint.md).
      startParams: [
        ...PGlite.defaultStartParams,
        "-c",
        `shared_buffers=${opts.cacheMb ?? settings.dataCacheMb.parse(undefined, "DATA_CACHE_MB")}MB`,
      ],
      loadDataDir: opts.loadDataDir,
      // PGlite's own bytea handlers go byte by byte in JavaScript (a 20 MB file: ~20 s in, ~4 s
      // out). Bytes are sent as they are (binary), and read back from hex by Buffer.
      serializers: { [types.BYTEA]: (bytes: Uint8Array) => bytes as unknown as string },
      parsers: { [types.BYTEA]: (hex: string) => Buffer.from(hex.slice(2), "hex") },
    });
    if (!initdb) forgetLeftOut(client.Module.FS);
  } catch (err) {
    unlock();
    // A first start that died half-way would leave a data directory PGlite cannot open again.
    if (fresh) rmSync(dir, { recursive: true, force: true });
    throw new ConfigError(`Could not open the embedded database in DATA_DIR (${dir}): ${describeDbError(err)}.`);
  }
  // PGlite runs one statement at a time: whatever is in flight beyond one is waiting.
  // In the process itself: never unreachable, only busy (an import, a backup), and then it must be waited for.
  const health = createDbHealth(async () => void (await client.query("select 1")));
  const load = trackLoad(client, ["query", "exec", "transaction"], 1, health);
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  const release = createZeroPageRelease();
  // PGlite has no autovacuum, so nothing would ever gather the planner's statistics: without
  // them, a search over 100,000 messages chose to read the whole table (465 ms instead of 10).
  // A minute after opening, then hourly; it samples at most 30,000 rows per table.
  const analyze = () => void client.exec("analyze").catch(() => {});
  const firstAnalyze = setTimeout(analyze, 60_000);
  const analyzer = setInterval(analyze, 60 * 60_000);
  firstAnalyze.unref();
  analyzer.unref();
  return {
    driver: "pglite",
    db,
    load,
    health,
    pglite: client,
    releaseZeroPages: release && (() => (client.closed ? 0 : release(client.Module.HEAPU8))),
    rows: async <T>(query: SQL) => ((await db.execute(query)) as unknown as { rows: T[] }).rows,
    close: once(async () => {
      health.close();
      clearTimeout(firstAnalyze);
      clearInterval(analyzer);
      await client.close();
      unlock();
    }),
  };
}

export type DbLoad = {
  /** Connections the pool may open (PGlite: one). */
  readonly connections: number;
  /** Statements and transactions started and not yet finished; beyond `connections` they wait. */
  readonly inFlight: number;
  /** The most in flight at once since the last call: a scrape every 15 s would miss a burst. */
  takePeak(): number;
};

/**
 * Counts what is in flight by wrapping the driver's entry points, because neither driver says how
 * busy it is (postgres.js keeps its connection queues private); and tells `health` how each ended.
 */
function trackLoad<C extends object>(
  client: C,
  methods: (keyof C & string)[],
  connections: number,
  health: DbHealth,
): DbLoad {
  let inFlight = 0;
  let peak = 0;
  for (const name of methods) {
    const original = client[name] as (...args: unknown[]) => PromiseLike<unknown>;
    // postgres.js returns a lazy query that drizzle still configures (`.values()`) before it runs:
    // the very same object must go back, observed rather than replaced.
    (client as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const pending = original.apply(this, args);
      inFlight++;
      const stamp = health.begin();
      if (inFlight > peak) peak = inFlight;
      const write = typeof args[0] !== "string" || isWrite(args[0]);
      pending.then(
        () => {
          inFlight--;
          health.observe(stamp, write);
        },
        (err) => {
          inFlight--;
          health.observe(stamp, write, err ?? new Error("the statement failed"));
        },
      );
      return pending;
    };
  }
  return {
    connections,
    get inFlight() {
      return inFlight;
    },
    takePeak() {
      const highest = peak;
      peak = inFlight;
      return highest;
    },
  };
}

/**
 * Postgres statements waiting this long with none settling mean the database is out of reach (a
 * network that drops everything), not busy: a busy pool still finishes statements all the time.
 */
const STALL_MS = 5000;

/** Whether a statement changes data (a transaction is counted as one that does). */
function isWrite(statement: string): boolean {
  const head = statement.trimStart().slice(0, 12).toLowerCase();
  if (/^(insert|update|delete|create|alter|drop|copy|truncate|checkpoint)\b/.test(head)) return true;
  // A common table expression writes when it holds a data-changing statement.
  return head.startsWith("with") && /\b(insert|update|delete)\b/i.test(statement);
}

/** Settles like `query`, or fails once `ms` have passed without an answer. */
async function within(ms: number, query: PromiseLike<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`it did not answer within ${ms} ms`), { code: "ETIMEDOUT" })),
      ms,
    );
  });
  try {
    await Promise.race([query, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The lock file in DATA_DIR; it belongs to the running process, never to a copy of the data. */
export const LOCK_FILE = "parley.pid";

/** DATA_DIR is held by a live Parley: commands that need the files themselves say what to do. */
export class DataDirInUse extends ConfigError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `DATA_DIR (${dir}) is in use by another Parley (process ${pid}); the embedded database serves one process at a time. Stop that one first, or use a Postgres server (DATABASE_URL) to run several.`,
    );
  }
}

/** The pid of the live process holding DATA_DIR's lock, if any. */
export function dataDirHolder(dir: string): number | undefined {
  let holder: number;
  try {
    holder = Number(readFileSync(join(dir, LOCK_FILE), "utf8").trim());
  } catch {
    return undefined;
  }
  const live = Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder);
  return live ? holder : undefined;
}

/**
 * One process per embedded database: a second one writing the same files would corrupt them.
 * The lock is a file holding the owner's pid; one left by a process that died is taken over.
 * Returns the function that releases it.
 */
function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, mine, { flag: "wx" });
      return () => {
        try {
          if (readFileSync(path, "utf8") === mine) unlinkSync(path);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new ConfigError(`Could not lock DATA_DIR (${dir}): ${describeDbError(err)}.`);
      }
    }
    // In a container every run is pid 1: a lock naming our own pid is a previous run's.
    const holder = dataDirHolder(dir);
    if (holder) throw new DataDirInUse(dir, holder);
    rmSync(path, { force: true });
  }
  throw new ConfigError(`Could not lock DATA_DIR (${dir}): another process keeps taking it.`);
}

/** Closing twice (a failed start, then shutdown) must not throw. */
function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}

/** True when opening the embedded database in this folder will create it (from the build's template, or initdb). */
export function isNewDataDir(dataDir: string): boolean {
  return !dataDir.startsWith("memory://") && !hasFiles(resolve(dataDir));
}

function hasFiles(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).length > 0;
}

/** PGlite's own mkdir is not recursive, and its errors do not name the folder. */
function prepareDataDir(dir: string) {
  try {
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(
      `DATA_DIR (${dir}) cannot be created or written to (${reason}); point it at a writable folder.`,
    );
  }
}
