/**
 * Finds a Postgres server for the test run: TEST_DATABASE_URL, else the one at 127.0.0.1:5432,
 * else a throwaway cluster started from the installed Postgres binaries. Each test gets its own
 * fresh database on it. Where none can be had the run says so loudly; with CI=true it fails.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";

export type PostgresServer = { adminUrl: string; stop(): Promise<void> };

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  return undefined;
}

/** Postgres refuses to run as root; the throwaway cluster runs as the `postgres` user then. */
async function run(cmd: string[], asPostgres: boolean) {
  const argv = asPostgres ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd;
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cmd[0]} failed: ${await new Response(proc.stderr).text()}`);
}

async function startThrowawayCluster(): Promise<PostgresServer | undefined> {
  const bin = postgresBinDir();
  if (!bin) return undefined;
  const asPostgres = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), "parley-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = 20000 + Math.floor(Math.random() * 20000);
  if (asPostgres) await run(["chown", "postgres", dir], false);
  await run([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8"], asPostgres);
  await run(
    [
      join(bin, "pg_ctl"),
      "-D",
      data,
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      "-w",
      "-l",
      join(dir, "log"),
      "start",
    ],
    asPostgres,
  );
  return {
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"], asPostgres).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function findPostgres(): Promise<PostgresServer | undefined> {
  const candidates = [process.env.TEST_DATABASE_URL, "postgres://postgres@127.0.0.1:5432/postgres"];
  for (const url of candidates) {
    if (url && (await answers(url))) return { adminUrl: url, stop: async () => {} };
  }
  return startThrowawayCluster().catch((err) => {
    process.stderr.write(`Could not start a throwaway Postgres cluster: ${err.message}\n`);
    return undefined;
  });
}

/** Creates an empty database with a unique name; returns its URL and a function that drops it. */
export async function createDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `parley_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
