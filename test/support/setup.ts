// Preloaded once per `bun test` run (bunfig.toml): finds Postgres for the whole run.
import { afterAll } from "bun:test";
import { closeBrowser } from "./browser.ts";
import { findPostgres } from "./postgres.ts";

afterAll(() => closeBrowser());

const server = await findPostgres();
if (server) {
  process.env.PARLEY_TEST_PG_ADMIN = server.adminUrl;
  afterAll(() => server.stop());
} else {
  const banner =
    "NO POSTGRES: no server answered and none could be started; the Postgres half of the suite cannot run.";
  process.stderr.write(`\n${"!".repeat(banner.length)}\n${banner}\n${"!".repeat(banner.length)}\n\n`);
  if (process.env.CI === "true")
    throw new Error("CI=true requires Postgres: set TEST_DATABASE_URL or install postgresql.");
}
