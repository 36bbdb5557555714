// Preloaded once per test worker (bunfig.toml; `bun test --parallel --no-isolate` runs many files in
// each worker): finds Postgres for all of them. A hook registered here would run after every file.
// The browser (test/support/browser.ts) is left open: it ends with the worker.
import { findPostgres } from "./postgres.ts";

const server = await findPostgres();
if (server) {
  process.env.PARLEY_TEST_PG_ADMIN = server.adminUrl;
  // Not in an afterAll, which would stop it after this worker's first file.
  server.stopAfter(process.pid);
} else {
  const banner =
    "NO POSTGRES: no server answered and none could be started; the Postgres half of the suite cannot run.";
  process.stderr.write(`\n${"!".repeat(banner.length)}\n${banner}\n${"!".repeat(banner.length)}\n\n`);
  if (process.env.CI === "true")
    throw new Error("CI=true requires Postgres: set TEST_DATABASE_URL or install postgresql.");
}
