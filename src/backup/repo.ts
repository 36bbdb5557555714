import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { rowsOf } from "../db/raw-rows.ts";

/** Both drivers' results: PGlite answers `{ rows }`, postgres.js an array. */
async function rows<T>(db: Pick<Db, "execute">, query: SQL): Promise<T[]> {
  return rowsOf(await db.execute(query)) as T[];
}

/** Every table of the database's own making (not Postgres's), with its schema: `schema.table`. */
export async function userTables(db: Db): Promise<string[]> {
  const found = await rows<{ name: string }>(
    db,
    sql`select n.nspname || '.' || c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.relkind in ('r', 'p', 'v', 'm', 'f')
          and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\_%'
        order by 1`,
  );
  return found.map((r) => r.name);
}

/** Rows in a table (`public` schema). */
export async function countRows(db: Pick<Db, "execute">, table: string): Promise<number> {
  const [row] = await rows<{ n: string | number }>(db, sql`select count(*) as n from ${sql.identifier(table)}`);
  return Number(row?.n ?? 0);
}

export type CopyTable = {
  name: string;
  key: string;
  /** Columns written (generated ones, like chats' search vectors of migration 0004, are computed by the target). */
  columns: string[];
  /** Columns referring to this same table (a message's parent). */
  selfReferences: string[];
};

const list = (names: string[]) =>
  sql.join(
    names.map((n) => sql.identifier(n)),
    sql`, `,
  );

const after = (key: string, last: string | undefined) =>
  last === undefined ? sql`true` : sql`${sql.identifier(key)} > ${last}`;

/** The next rows' keys (in key order) and the size of each row as JSON, to size a batch by bytes. */
export async function nextKeys(
  db: Db,
  table: CopyTable,
  last: string | undefined,
  limit: number,
): Promise<{ key: string; bytes: number }[]> {
  const found = await rows<{ key: string; bytes: string | number }>(
    db,
    sql`select ${sql.identifier(table.key)}::text as key, octet_length(row_to_json(t)::text) as bytes
        from ${sql.identifier(table.name)} t where ${after(table.key, last)}
        order by ${sql.identifier(table.key)} limit ${limit}`,
  );
  return found.map((r) => ({ key: r.key, bytes: Number(r.bytes) }));
}

/** The rows after `last` up to and including `upto`, as one JSON array (exact: microseconds, numerics). */
export async function readBatch(db: Db, table: CopyTable, last: string | undefined, upto: string): Promise<string> {
  const key = sql.identifier(table.key);
  const [row] = await rows<{ batch: string }>(
    db,
    sql`select coalesce(json_agg(row_to_json(t) order by ${key}), '[]')::text as batch
        from (select ${list(table.columns)} from ${sql.identifier(table.name)}
              where ${after(table.key, last)} and ${key} <= ${upto}) t`,
  );
  return row?.batch ?? "[]";
}

/**
 * Inserts a batch read by readBatch. A reference to a row of the same table with a greater key
 * (not copied yet) is left empty here and set by relink once the whole table is in.
 */
export async function writeBatch(db: Pick<Db, "execute">, table: CopyTable, batch: string): Promise<void> {
  const values = table.columns.map((c) =>
    table.selfReferences.includes(c)
      ? sql`case when ${sql.identifier(c)} > ${sql.identifier(table.key)} then null else ${sql.identifier(c)} end`
      : sql.identifier(c),
  );
  await db.execute(
    sql`insert into ${sql.identifier(table.name)} (${list(table.columns)})
        select ${sql.join(values, sql`, `)} from json_populate_recordset(null::${sql.identifier(table.name)}, ${batch}::json)`,
  );
}

/** The references left empty by writeBatch, as `[key, column, value]`, read from the source. */
export async function forwardReferences(db: Db, table: CopyTable): Promise<[string, string, string][]> {
  const found: [string, string, string][] = [];
  for (const column of table.selfReferences) {
    const col = sql.identifier(column);
    const key = sql.identifier(table.key);
    const refs = await rows<{ key: string; value: string }>(
      db,
      sql`select ${key}::text as key, ${col}::text as value from ${sql.identifier(table.name)} where ${col} > ${key}`,
    );
    for (const r of refs) found.push([r.key, column, r.value]);
  }
  return found;
}

export async function relink(
  db: Pick<Db, "execute">,
  table: CopyTable,
  [key, column, value]: [string, string, string],
): Promise<void> {
  await db.execute(
    sql`update ${sql.identifier(table.name)} set ${sql.identifier(column)} = ${value} where ${sql.identifier(table.key)} = ${key}`,
  );
}
