import { afterAll, beforeAll, describe } from "bun:test";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate, migrations } from "../../src/db/migrate.ts";
import { createDatabase } from "./postgres.ts";

export type Driver = "pglite" | "postgres";

/** Both drivers when Postgres is available (see setup.ts, which fails CI without it). */
export const DRIVERS: Driver[] = process.env.PARLEY_TEST_PG_ADMIN ? ["pglite", "postgres"] : ["pglite"];

export type TestDb = {
  driver: Driver;
  database: Database;
  /** postgres:// URL of this test's own database (Postgres only). */
  url: string | undefined;
  close(): Promise<void>;
};

/**
 * Names the migrated schema: the migrations' text and PGlite's version. Each test file runs with
 * module state of its own, so the migrated templates below are kept where every file (and every
 * later run) finds them, under this name; a change to a migration names new ones.
 */
const schemaKey = new Bun.CryptoHasher("sha256")
  .update(JSON.stringify(migrations))
  .update(readFileSync(join(import.meta.dir, "../../node_modules/@electric-sql/pglite/package.json")))
  .digest("hex")
  .slice(0, 12);

let migratedTemplate: Promise<Blob> | undefined;

/**
 * A migrated PGlite data directory. Made from scratch (initdb in WASM and every migration: about
 * 7 s on our machines) once for all files, then read from a file (a load takes about 1 s).
 */
export function pgliteTemplate(): Promise<Blob> {
  migratedTemplate ??= (async () => {
    const folder = join(tmpdir(), "parley-test-templates");
    const path = join(folder, `pglite-${schemaKey}.tar`);
    const kept = Bun.file(path);
    if (await kept.exists()) return new Blob([await kept.arrayBuffer()]);
    const db = await openDatabase({ url: undefined, dataDir: "memory://" });
    await migrate(db);
    const dump = await db.pglite!.dumpDataDir("none");
    await db.close();
    // Written whole under another name first: a file reading it at the same time sees all or nothing.
    mkdirSync(folder, { recursive: true });
    const partial = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(partial, new Uint8Array(await dump.arrayBuffer()));
    renameSync(partial, path);
    return dump;
  })();
  return migratedTemplate;
}

let postgresTemplate: Promise<string> | undefined;

/**
 * The name of a migrated database on the test server to copy (CREATE DATABASE … TEMPLATE takes
 * about 60 ms where migrating takes 300). Made once for all files and runs: migrated under a
 * name of its own, then renamed to the shared name, so no file copies it half-made; a file that
 * loses the race to rename drops its own.
 */
function migratedPostgresTemplate(adminUrl: string): Promise<string> {
  postgresTemplate ??= (async () => {
    const name = `parley_template_${schemaKey}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    try {
      const [found] = await admin`select 1 from pg_database where datname = ${name}`;
      if (found) return name;
      const made = await createDatabase(adminUrl);
      const database = await openDatabase({ url: made.url, dataDir: "", poolSize: 1 });
      try {
        await migrate(database, made.url);
      } finally {
        await database.close();
      }
      const madeName = new URL(made.url).pathname.slice(1);
      try {
        await admin.unsafe(`alter database ${madeName} rename to ${name}`);
      } catch {
        await made.drop();
      }
      return name;
    } finally {
      await admin.end();
    }
  })();
  return postgresTemplate;
}

/** An empty database of its own for one test or suite, migrated unless asked not to be. */
export async function freshDatabase(driver: Driver, opts: { migrated?: boolean } = {}): Promise<TestDb> {
  const migrated = opts.migrated ?? true;
  if (driver === "pglite") {
    const database = await openDatabase({
      url: undefined,
      dataDir: "memory://",
      loadDataDir: migrated ? await pgliteTemplate() : undefined,
    });
    return { driver, database, url: undefined, close: () => database.close() };
  }
  const adminUrl = process.env.PARLEY_TEST_PG_ADMIN!;
  const created = await createDatabase(adminUrl, migrated ? await migratedPostgresTemplate(adminUrl) : undefined);
  const database = await openDatabase({ url: created.url, dataDir: "", poolSize: 5 });
  return {
    driver,
    database,
    url: created.url,
    async close() {
      await database.close();
      await created.drop();
    },
  };
}

/** Declares the same suite once per driver, each with a fresh migrated database. */
export function eachDriver(name: string, body: (t: TestDb) => void) {
  for (const driver of DRIVERS) suiteOn(driver, name, body);
}

/**
 * Declares a browser suite on one driver (PGlite where Postgres is not available). What a page
 * shows does not depend on the driver, and what the server does is tested on both by the
 * HTTP/WebSocket suites; running each browser suite twice doubled CI's costliest part (Chromium)
 * for no case of its own. The suites are shared out between the drivers, so each serves pages.
 */
export function oneDriver(driver: Driver, name: string, body: (t: TestDb) => void) {
  suiteOn(DRIVERS.includes(driver) ? driver : "pglite", name, body);
}

function suiteOn(driver: Driver, name: string, body: (t: TestDb) => void) {
  describe(`${name} [${driver}]`, () => {
    const t = { driver } as TestDb;
    beforeAll(async () => Object.assign(t, await freshDatabase(driver)));
    body(t);
    // Registered after the body's own hooks, which bun runs first: servers stop before their database goes.
    afterAll(() => t.close?.());
  });
}

/** Applies the first `count` migrations only: a database as an older version left it. */
export async function migrateTo(database: Database, count: number) {
  const { dialect, session } = database.db as unknown as { dialect: PgDialect; session: PgSession };
  await dialect.migrate(migrations.slice(0, count), session, {
    migrationsFolder: "drizzle",
    migrationsSchema: "drizzle",
    migrationsTable: "__drizzle_migrations",
  });
}
