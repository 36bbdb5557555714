import { chmodSync, existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { type Config, ConfigError, redactUrl } from "../config.ts";
import { type Database, DataDirInUse, dataDirHolder, openDatabase } from "../db/client.ts";
import { migrate } from "../db/migrate.ts";
import {
  type Bytes,
  backupKind,
  dumpPglite,
  pgliteBackup,
  readPgliteBackup,
  writeAtomically,
  writePrivate,
} from "./format.ts";
import { fetchLiveDump } from "./live.ts";
import { checkEmptyTarget, copyAll } from "./move.ts";
import { runPgTool } from "./pg-tools.ts";
import { countRows, userTables } from "./repo.ts";

export const BACKUP_HELP = `  backup FILE                  Write a backup of the database to FILE, also
                               while the server runs (the embedded database: its
                               DATA_DIR as .tar.gz; Postgres: pg_dump's custom
                               format, pg_dump installed).
  restore FILE                 Restore a backup into an empty DATA_DIR, or into
                               the empty database at DATABASE_URL; then migrate
                               it.
  move-data --to URL           Copy everything from the embedded database
                               (server stopped) into the empty Postgres database
                               at URL (postgres://...).`;

/** `parley backup FILE`: a consistent copy, taken while the server runs or not. */
export async function backupCommand(args: string[], config: Config): Promise<number> {
  const [file, ...extra] = args;
  if (!file || extra.length) return usage();
  const started = performance.now();
  if (config.databaseUrl) {
    const url = config.databaseUrl;
    // pg_dump reads one snapshot, so the server may keep writing meanwhile.
    await writeAtomically(file, async (temp) => {
      await runPgTool("pg_dump", ["--format=custom", `--file=${temp}`], url);
      chmodSync(temp, 0o600); // it holds every chat
    });
    say(`backed up the database at DATABASE_URL (${redactUrl(url)}) to ${file} (${size(file)}, ${since(started)})`);
    return 0;
  }
  const dir = resolve(config.dataDir);
  if (!existsSync(join(dir, "PG_VERSION"))) {
    throw new ConfigError(
      `DATA_DIR (${dir}) holds no database, so there is nothing to back up; point DATA_DIR at Parley's data folder.`,
    );
  }
  const holder = dataDirHolder(dir);
  const tar = holder ? await fetchLiveDump(dir, holder) : await withPglite(dir, (db) => dumpPglite(db.pglite!, dir));
  const bytes = pgliteBackup(tar);
  await writeAtomically(file, (temp) => writePrivate(temp, bytes));
  const how = holder ? `from the running server, process ${holder}` : "the server was not running";
  say(`backed up DATA_DIR (${dir}) to ${file} (${size(file)}, ${since(started)}; ${how})`);
  return 0;
}

/** `parley restore FILE`: only into an empty DATA_DIR or database, so nothing is overwritten. */
export async function restoreCommand(args: string[], config: Config): Promise<number> {
  const [file, ...extra] = args;
  if (!file || extra.length) return usage();
  if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigError(`${file} does not exist or is not a file.`);
  const bytes = new Uint8Array(await Bun.file(file).arrayBuffer());
  const kind = backupKind(bytes);
  if (!kind) {
    throw new ConfigError(
      `${file} is not a Parley backup (neither the embedded database's .tar.gz nor pg_dump's custom format).`,
    );
  }
  if (kind === "postgres" && !config.databaseUrl) {
    throw new ConfigError(
      `${file} is a backup of a Postgres database (pg_dump's format); set DATABASE_URL to an empty database to restore it there.`,
    );
  }
  if (kind === "pglite" && config.databaseUrl) {
    throw new ConfigError(
      `${file} is a backup of the embedded database; unset DATABASE_URL to restore it into DATA_DIR (then parley move-data --to moves it into Postgres).`,
    );
  }
  const restored = config.databaseUrl
    ? await restorePostgres(file, config.databaseUrl)
    : await restorePglite(file, bytes, resolve(config.dataDir));
  say(`restored ${file} into ${restored.where}: ${restored.summary}`);
  return 0;
}

async function restorePglite(file: string, bytes: Bytes, dir: string) {
  const existed = existsSync(dir);
  if (existed && readdirSync(dir).length) {
    throw new ConfigError(
      `DATA_DIR (${dir}) is not empty; restore into a new or empty folder, so that nothing in it is overwritten.`,
    );
  }
  const tar = readPgliteBackup(file, bytes);
  try {
    const database = await openDatabase({ url: undefined, dataDir: dir, loadDataDir: new Blob([tar]) });
    try {
      return { where: `DATA_DIR (${dir})`, summary: await settle(database) };
    } finally {
      await database.close();
    }
  } catch (err) {
    // Leave the folder as it was found: a half-restored data directory would start as if whole.
    if (existed) for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
    else rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function restorePostgres(file: string, url: string) {
  const database = await openDatabase({ url, dataDir: "" });
  try {
    const tables = await userTables(database.db);
    if (tables.length) {
      throw new ConfigError(
        `The database at DATABASE_URL (${redactUrl(url)}) is not empty (it has ${tables.length} tables); restore into a new, empty database (createdb parley_restored), so that nothing in it is overwritten.`,
      );
    }
    // One transaction: a restore that fails leaves the database empty, as it was.
    await runPgTool("pg_restore", ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", file], url);
    return { where: `the database at DATABASE_URL (${redactUrl(url)})`, summary: await settle(database, url) };
  } finally {
    await database.close();
  }
}

/** Brings a restored (perhaps older) database up to date and says what it holds. */
async function settle(database: Database, url?: string): Promise<string> {
  const { applied } = await migrate(database, url);
  const counts = await Promise.all(["users", "chats", "messages"].map((t) => countRows(database.db, t)));
  return `${counts[0]} users, ${counts[1]} chats, ${counts[2]} messages; ${applied} migrations applied`;
}

/** `parley move-data --to URL`: the embedded database into an empty Postgres, checked by counts. */
export async function moveDataCommand(args: string[], config: Config): Promise<number> {
  const to = args[0] === "--to" ? args[1] : args[0]?.startsWith("--to=") ? args[0].slice(5) : undefined;
  if (!to || args.length > (args[0] === "--to" ? 2 : 1)) return usage();
  if (!/^postgres(ql)?:\/\/[^/]/.test(to)) {
    throw new ConfigError(
      `--to must be a postgres:// URL such as postgres://user:password@localhost:5432/parley (got "${redactUrl(to)}").`,
    );
  }
  const dir = resolve(config.dataDir);
  if (!existsSync(join(dir, "PG_VERSION"))) {
    throw new ConfigError(
      `DATA_DIR (${dir}) holds no database, so there is nothing to move; point DATA_DIR at Parley's data folder.`,
    );
  }
  const started = performance.now();
  return withPglite(dir, async (source) => {
    await migrate(source); // what its next start would do: both sides then have the same tables
    const target = await openDatabase({ url: to, dataDir: "", poolSize: 1, urlName: "--to" });
    try {
      await checkEmptyTarget(target.db);
      await migrate(target, to);
      const moved = await copyAll(source, target);
      const width = Math.max(...moved.map((m) => m.table.length));
      for (const m of moved) say(`${m.table.padEnd(width)}  ${m.source} rows in DATA_DIR, ${m.target} in the target`);
      const total = moved.reduce((n, m) => n + m.target, 0);
      say(
        `moved ${total} rows from DATA_DIR (${dir}) into ${redactUrl(to)} in ${since(started)}; every count matches. ` +
          "Start Parley with DATABASE_URL set to it; DATA_DIR is left as it was.",
      );
      return 0;
    } finally {
      await target.close();
    }
  });
}

/** Opens DATA_DIR for a command that needs the files themselves, or says to stop the server. */
async function withPglite<T>(dir: string, use: (database: Database) => Promise<T>): Promise<T> {
  let database: Database;
  try {
    database = await openDatabase({ url: undefined, dataDir: dir });
  } catch (err) {
    if (!(err instanceof DataDirInUse)) throw err;
    throw new ConfigError(
      `DATA_DIR (${dir}) is in use by a running Parley (process ${err.pid}); stop it first, so that nothing changes while its data is read.`,
    );
  }
  try {
    return await use(database);
  } finally {
    await database.close();
  }
}

function usage(): number {
  process.stderr.write(`parley: usage:\n${BACKUP_HELP}\n`);
  return 2;
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const since = (started: number) => `${((performance.now() - started) / 1000).toFixed(1)} s`;
function size(file: string): string {
  const bytes = statSync(file).size;
  return bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
