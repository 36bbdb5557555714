/**
 * Finds a Postgres server for the test run: TEST_DATABASE_URL, else the one at 127.0.0.1:5432,
 * else a throwaway cluster started from the installed Postgres binaries. Each test gets its own
 * fresh database on it. Where none can be had the run says so loudly; with CI=true it fails.
 */
import postgres from "postgres";
import { postgresBinDir, startCluster } from "./pg-cluster.ts";

export type PostgresServer = {
  adminUrl: string;
  stop(): Promise<void>;
  /** Stops it once process `pid` has ended (nothing to stop for a server we did not start). */
  stopAfter(pid: number): void;
};

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

/** A server the tests found running: not theirs to stop. */
const found = (adminUrl: string): PostgresServer => ({ adminUrl, stop: async () => {}, stopAfter: () => {} });

async function startThrowawayCluster(): Promise<PostgresServer | undefined> {
  if (!postgresBinDir()) return undefined;
  const cluster = await startCluster();
  return { adminUrl: cluster.adminUrl, stop: () => cluster.destroy(), stopAfter: (pid) => cluster.destroyAfter(pid) };
}

export async function findPostgres(): Promise<PostgresServer | undefined> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    if (await answers(given)) return found(given);
    process.stderr.write("TEST_DATABASE_URL does not answer; trying 127.0.0.1:5432, then a throwaway cluster.\n");
  }
  const local = "postgres://postgres@127.0.0.1:5432/postgres";
  if (await answers(local)) return found(local);
  return startThrowawayCluster().catch((err) => {
    process.stderr.write(`Could not start a throwaway Postgres cluster: ${err.message}\n`);
    return undefined;
  });
}

/**
 * Creates a database with a unique name, empty or a copy of `template`; returns its URL and a
 * function that drops it.
 */
export async function createDatabase(
  adminUrl: string,
  template?: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `parley_test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}${template ? ` template ${template}` : ""}`);
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
