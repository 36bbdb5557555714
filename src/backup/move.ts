import { is } from "drizzle-orm";
import { getTableConfig, PgTable } from "drizzle-orm/pg-core";
import { ConfigError } from "../config.ts";
import type { Database, Db } from "../db/client.ts";
import * as schema from "../db/schema.ts";
import {
  type CopyTable,
  countRows,
  forwardReferences,
  nextKeys,
  readBatch,
  relink,
  userTables,
  writeBatch,
} from "./repo.ts";

/** Tables not moved, and why. Every other table in schema.ts is copied (test/backup keeps it so). */
export const SKIPPED_TABLES: Record<string, string> = {
  bus_events: "live events between instances, deleted minutes after they are sent",
};

/**
 * Columns of hand-written migrations, kept out of schema.ts so no select carries them, copied as
 * they are: messages' search vectors (0021: filled by the indexer after the save, no longer
 * computed by the target as 0004's generated column was).
 */
const UNDECLARED_COLUMNS: Record<string, string[]> = { messages: ["search"] };

/** drizzle's record of the migrations applied; the target gets its own when migrated. */
const MIGRATIONS_TABLE = "drizzle.__drizzle_migrations";

/** A batch holds at most this many rows, and stops growing past this many bytes of JSON. */
const BATCH_ROWS = 1000;
const BATCH_BYTES = 8 * 1024 * 1024;

/** The tables to copy, from schema.ts, each after the tables it refers to. */
export function copyPlan(): CopyTable[] {
  const tables = (Object.values(schema) as unknown[]).filter((v): v is PgTable => is(v, PgTable));
  const configs = tables.map((t) => getTableConfig(t)).filter((c) => !(c.name in SKIPPED_TABLES));
  const ordered: CopyTable[] = [];
  const placed = new Set<string>();
  while (ordered.length < configs.length) {
    const next = configs.find(
      (c) =>
        !placed.has(c.name) &&
        c.foreignKeys.every((fk) => {
          const target = getTableConfig(fk.reference().foreignTable).name;
          return target === c.name || placed.has(target);
        }),
    );
    if (!next) throw new Error("the tables' foreign keys form a cycle");
    const keys = next.columns.filter((c) => c.primary);
    if (keys.length !== 1) throw new Error(`${next.name} needs a one-column primary key to be copied in batches`);
    ordered.push({
      name: next.name,
      key: keys[0]!.name,
      columns: [
        ...next.columns.filter((c) => !c.generated).map((c) => c.name),
        ...(UNDECLARED_COLUMNS[next.name] ?? []),
      ],
      selfReferences: next.foreignKeys
        .filter((fk) => getTableConfig(fk.reference().foreignTable).name === next.name)
        .flatMap((fk) => fk.reference().columns.map((c) => c.name)),
    });
    placed.add(next.name);
  }
  return ordered;
}

/**
 * Refuses a target holding anything: tables Parley did not make, or rows in Parley's. Parley's
 * tables with no rows are fine (a database already migrated by `parley migrate`, or a move that
 * failed half-way and left the schema).
 */
export async function checkEmptyTarget(target: Db): Promise<void> {
  const ours = new Set([...copyPlan().map((t) => `public.${t.name}`), MIGRATIONS_TABLE]);
  for (const name of Object.keys(SKIPPED_TABLES)) ours.add(`public.${name}`);
  const tables = await userTables(target);
  const foreign = tables.filter((t) => !ours.has(t));
  if (foreign.length) {
    throw new ConfigError(
      `The target database is not empty (it has ${describe(foreign)}); move into a new, empty database (createdb parley), and nothing in this one is touched.`,
    );
  }
  for (const table of copyPlan()) {
    if (!tables.includes(`public.${table.name}`)) continue;
    const n = await countRows(target, table.name);
    if (n > 0) {
      throw new ConfigError(
        `The target database already holds Parley's data (${n} rows in ${table.name}); move into a new, empty database (createdb parley), and nothing in this one is touched.`,
      );
    }
  }
}

function describe(tables: string[]): string {
  const shown = tables.slice(0, 3).join(", ");
  return tables.length > 3 ? `${tables.length} tables: ${shown}, ...` : `table${tables.length > 1 ? "s" : ""} ${shown}`;
}

export type MovedTable = { table: string; source: number; target: number };

/**
 * Copies every table of the plan from `source` into the (migrated, empty) `target`, in one
 * transaction: ids, timestamps and values as they are, in batches so memory stays bounded. The
 * counts of each table are compared inside the transaction; any difference undoes it all.
 */
export async function copyAll(
  source: Database,
  target: Database,
  progress: (table: string, rows: number) => void = () => {},
): Promise<MovedTable[]> {
  const plan = copyPlan();
  const counts = new Map<string, number>();
  for (const table of plan) counts.set(table.name, await countRows(source.db, table.name));
  return target.db.transaction(async (tx) => {
    const moved: MovedTable[] = [];
    for (const table of plan) {
      let copied = 0;
      let last: string | undefined;
      for (;;) {
        const keys = await nextKeys(source.db, table, last, BATCH_ROWS);
        if (!keys.length) break;
        let take = 0;
        for (let bytes = 0; take < keys.length && (take === 0 || bytes + keys[take]!.bytes <= BATCH_BYTES); take++) {
          bytes += keys[take]!.bytes;
        }
        const upto = keys[take - 1]!.key;
        await writeBatch(tx, table, await readBatch(source.db, table, last, upto));
        copied += take;
        last = upto;
        progress(table.name, copied);
      }
      for (const ref of await forwardReferences(source.db, table)) await relink(tx, table, ref);
      const row = { table: table.name, source: counts.get(table.name)!, target: await countRows(tx, table.name) };
      if (row.target !== row.source) {
        throw new ConfigError(
          `${table.name} has ${row.source} rows in DATA_DIR but ${row.target} were written; nothing was moved (the target is as it was, with Parley's empty tables).`,
        );
      }
      moved.push(row);
    }
    return moved;
  });
}
