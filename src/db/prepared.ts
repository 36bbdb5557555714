import type { Db } from "./client.ts";

/**
 * Statements built once per database, then only run. drizzle took longer to build a query (0.2 to
 * 0.6 ms each, measured) than Postgres took to run a small one; in a burst of sends or page loads,
 * that building was what each request waited for. Keyed by database, so each test's own database
 * (and each transaction) gets its own.
 */
export function preparedOnce<T>(build: (db: Db) => T): (db: Db) => T {
  const built = new WeakMap<Db, T>();
  return (db) => {
    const known = built.get(db);
    if (known) return known;
    const fresh = build(db);
    built.set(db, fresh);
    return fresh;
  };
}
