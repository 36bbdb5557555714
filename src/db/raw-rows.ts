import { getTableColumns, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";

/**
 * For raw SQL that returns a table's rows (the batched statements of the send path): the columns
 * under their drizzle names (but `except`), and each row read back as drizzle would read it (dates,
 * numbers, JSON; a column left out reads as null).
 */
export function columnsOf(table: PgTable, alias: string, except: string[] = []): SQL {
  return sql.join(
    Object.entries(getTableColumns(table))
      .filter(([key]) => !except.includes(key))
      .map(([key, column]) => sql`${sql.identifier(alias)}.${sql.identifier(column.name)} as ${sql.identifier(key)}`),
    sql`, `,
  );
}

export function fromDriver<T>(table: PgTable, row: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(getTableColumns(table))) {
    const value = row[key];
    out[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
  }
  return out as T;
}

/** The rows of db.execute, from either driver (postgres.js: an array; PGlite: `{ rows }`). */
export const rowsOf = (result: unknown): Record<string, unknown>[] =>
  (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as Record<string, unknown>[];
