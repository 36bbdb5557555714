/** What the in-process benchmarks (open-chat, search, transfer) share: the app, people, both drivers. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../src/app.ts";
import { SESSION_COOKIE } from "../src/auth/cookie.ts";
import { loadConfig } from "../src/config.ts";
import { type Database, openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { silentLogger } from "../src/log.ts";
import { createDatabase, findPostgres } from "../test/support/postgres.ts";

const PASSWORD = "correct horse battery staple";

/**
 * Parley's app on `database`, listening on 127.0.0.1 (with `env` as settings, e.g. a fake upstream);
 * `person` makes an account signed in as a browser would be.
 */
export function benchApp(database: Database, env: Record<string, string> = {}) {
  const app = createApp({ config: loadConfig({ LOG_FORMAT: "json", ...env }), database, log: silentLogger }).listen({
    port: 0,
    hostname: "127.0.0.1",
  });
  const base = `http://127.0.0.1:${app.server!.port}`;
  const { auth } = app.decorator;
  return {
    base,
    async person(name: string, admin = false) {
      await auth.createUser(name, PASSWORD, admin);
      const { token, user } = await auth.signIn(name, PASSWORD, "127.0.0.1", "bench");
      return { user, cookie: `${SESSION_COOKIE}=${token}` };
    },
    async stop() {
      await app.decorator.shutdown();
      await app.stop(true);
    },
  };
}

/**
 * `measure` on a fresh embedded database, then on a fresh Postgres database when one answers. The
 * embedded one is in memory unless `onDisk` (as Parley runs it: writing its files costs differently).
 */
export async function onBothDrivers<T>(
  measure: (driver: string, database: Database) => Promise<T>,
  opts: { onDisk?: boolean } = {},
): Promise<T[]> {
  const results: T[] = [];
  const dir = opts.onDisk ? mkdtempSync(join(tmpdir(), "parley-bench-")) : undefined;
  const pglite = await openDatabase({ url: undefined, dataDir: dir ? join(dir, "data") : "memory://" });
  await migrate(pglite);
  results.push(await measure("pglite", pglite));
  await pglite.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const server = await findPostgres();
  if (server) {
    const created = await createDatabase(server.adminUrl);
    const pg = await openDatabase({ url: created.url, dataDir: "" });
    await migrate(pg, created.url);
    results.push(await measure("postgres", pg));
    await pg.close();
    await created.drop();
    await server.stop();
  }
  return results;
}
