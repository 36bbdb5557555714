import { afterAll, beforeAll, describe } from "bun:test";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
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

let migratedTemplate: Promise<Blob> | undefined;

/** A migrated PGlite data directory, made once per run: initdb in WASM takes seconds, a load half a second. */
export function pgliteTemplate(): Promise<Blob> {
  migratedTemplate ??= (async () => {
    const db = await openDatabase({ url: undefined, dataDir: "memory://" });
    await migrate(db);
    const dump = await db.pglite!.dumpDataDir("none");
    await db.close();
    return dump;
  })();
  return migratedTemplate;
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
  const created = await createDatabase(process.env.PARLEY_TEST_PG_ADMIN!);
  const database = await openDatabase({ url: created.url, dataDir: "", poolSize: 5 });
  if (migrated) await migrate(database, created.url);
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
