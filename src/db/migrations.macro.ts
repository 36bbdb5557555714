import { readMigrationFiles } from "drizzle-orm/migrator";

/**
 * Runs at build (and transpile) time as a Bun macro: the SQL in drizzle/ is inlined into the
 * bundle, so the single binary migrates with no drizzle/ folder beside it.
 */
export function embeddedMigrations() {
  return readMigrationFiles({ migrationsFolder: `${import.meta.dir}/../../drizzle` });
}
