import { sql } from "drizzle-orm";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { ConfigError, redactUrl } from "../config.ts";
import { type Database, fromPostgresClient } from "./client.ts";
import { describeDbError } from "./errors.ts";
import { embeddedMigrations } from "./migrations.macro.ts" with { type: "macro" };

/** The migrations in drizzle/, inlined at build time. */
export const migrations: MigrationMeta[] = embeddedMigrations();

// Any constant shared by every Parley instance; it names the lock in pg_locks.
const MIGRATION_LOCK = 0x7061726c; // "parl"

export type MigrateResult = { applied: number; total: number };

/**
 * Brings the schema up to date, in one transaction. On Postgres it holds an advisory lock on a
 * connection of its own, because two instances migrating an empty database at once collide on
 * `CREATE SCHEMA`.
 */
export async function migrate(database: Database, url?: string): Promise<MigrateResult> {
  if (database.driver === "pglite" || !url) return applyMigrations(database);
  const lockClient = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    await lockClient`select pg_advisory_lock(${MIGRATION_LOCK})`;
    try {
      return await applyMigrations(fromPostgresClient(lockClient));
    } finally {
      await lockClient`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(
      `Could not migrate the database at DATABASE_URL (${redactUrl(url)}): ${describeDbError(err)}. Nothing was changed.`,
    );
  } finally {
    await lockClient.end({ timeout: 5 });
  }
}

async function applyMigrations(database: Database): Promise<MigrateResult> {
  const done = await appliedMigrations(database);
  const latestKnown = migrations.at(-1)?.folderMillis ?? 0;
  const newest = done.at(-1);
  if (newest && newest > latestKnown) {
    throw new ConfigError(
      "The database was migrated by a newer version of Parley than this one; " +
        "run that version (or restore a backup made for this one) instead of downgrading.",
    );
  }
  // drizzle's own migrator, fed the embedded files instead of reading drizzle/ from disk; it keeps
  // the same bookkeeping table that `drizzle-kit migrate` writes.
  const { dialect, session } = database.db as unknown as { dialect: PgDialect; session: PgSession };
  await dialect.migrate(migrations, session, {
    migrationsFolder: "drizzle",
    migrationsSchema: "drizzle",
    migrationsTable: "__drizzle_migrations",
  });
  // Counted from the bookkeeping, not predicted: a migrator that skipped one would show here.
  return { applied: (await appliedMigrations(database)).length - done.length, total: migrations.length };
}

async function appliedMigrations(database: Database): Promise<number[]> {
  const [table] = await database.rows<{ ok: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as ok`,
  );
  if (!table?.ok) return [];
  const rows = await database.rows<{ created_at: string }>(
    sql`select created_at from drizzle.__drizzle_migrations order by created_at`,
  );
  return rows.map((r) => Number(r.created_at));
}
