import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import postgres from "postgres";
import { postgresOptions } from "../../src/db/client.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";

/**
 * postgres.js 3.4.9 kept a closed connection's state for its next life (patches/postgres+3.4.9.patch):
 * the killed statement's error was given to the first statement of the reconnected connection, and
 * a write still buffered when the socket closed held back the next startup message until
 * connect_timeout (10 s). After an outage, pages failed with 503 for a while after /readyz said
 * ready (CI, test/db/outage.test.ts, about one run in three under load).
 */
describe.if(DRIVERS.includes("postgres"))("the Postgres driver after a connection is killed [postgres]", () => {
  let t: TestDb;
  let admin: postgres.Sql;
  beforeAll(async () => {
    t = await freshDatabase("postgres", { migrated: false });
    admin = postgres(process.env.PARLEY_TEST_PG_ADMIN!, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await admin.end();
    await t.close();
  });

  test("a statement killed mid-flight fails with its reason, and the same connection's next statement answers", async () => {
    // One connection, so the statement after the kill runs on the connection that was killed.
    const sql = postgres(t.url!, postgresOptions(1));
    try {
      const pid = await backendPid(sql);
      const killed = sql`select pg_sleep(30)`.then(
        () => "answered",
        (err: { code?: string }) => err.code ?? String(err),
      );
      await waitForActive(admin, pid);
      await admin`select pg_terminate_backend(${pid})`;
      // The backend says why (57P01) just before it closes; which of the two the statement hears first is up to the socket.
      expect(["57P01", "CONNECTION_CLOSED"]).toContain(await killed);
      const [row] = await sql<{ answer: number }[]>`select 42 as answer`;
      expect(row?.answer).toBe(42);
      expect(await backendPid(sql)).not.toBe(pid);
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 15_000);

  test("a statement sent on a connection that is closing, and the next after it, are settled; the connection comes back", async () => {
    const sql = postgres(t.url!, postgresOptions(1));
    try {
      for (let round = 0; round < 5; round++) {
        const pid = await backendPid(sql);
        // Killed while idle, and asked at once: the statement is buffered for a socket about to close.
        await admin`select pg_terminate_backend(${pid})`;
        const raced = await sql`select 1`.then(
          () => "answered",
          (err: { code?: string }) => err.code ?? String(err),
        );
        expect(["answered", "57P01", "CONNECTION_CLOSED", "ECONNRESET"]).toContain(raced);
        // Statements sent before the close is heard fail with it (never hang); one sent after is
        // answered by a new backend, without waiting out a connect timeout.
        let next: number | undefined;
        for (let attempt = 0; attempt < 3 && next === undefined; attempt++) {
          next = await backendPid(sql).catch((err: { code?: string }) => {
            expect(["57P01", "CONNECTION_CLOSED", "ECONNRESET"]).toContain(err.code ?? "");
            return undefined;
          });
        }
        expect(next).toBeNumber();
        expect(next).not.toBe(pid);
      }
    } finally {
      await sql.end({ timeout: 1 });
    }
  }, 15_000);
});

async function backendPid(sql: postgres.Sql): Promise<number> {
  const [row] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  return row!.pid;
}

async function waitForActive(admin: postgres.Sql, pid: number) {
  for (let i = 0; i < 200; i++) {
    const [row] = await admin<{ state: string }[]>`select state from pg_stat_activity where pid = ${pid}`;
    if (row?.state === "active") return;
    await Bun.sleep(10);
  }
  throw new Error(`backend ${pid} never became active`);
}

/**
 * postgres.js 3.4.9 reserved a transaction's connection only if the chain deciding whether more
 * could be pipelined onto it got that far: with a full socket or pipeline it did not, BEGIN ran
 * anyway, and the connection went back to the pool inside the transaction, where the pool's other
 * statements then ran and held their locks (porsager/postgres#1189; a load benchmark stalled on it).
 * With `max_pipeline: 0` the chain never gets that far, so the old code failed every time.
 */
describe.if(DRIVERS.includes("postgres"))("the Postgres driver's transactions under a busy pool [postgres]", () => {
  test("every transaction gets a connection of its own, and none is left open after", async () => {
    const t = await freshDatabase("postgres", { migrated: false });
    const name = `parley-tx-${Date.now()}`;
    // max_pipeline is missing from postgres.js's types.
    const options = { max: 3, max_pipeline: 0, onnotice: () => {}, connection: { application_name: name } };
    const sql = postgres(t.url!, options as postgres.Options<Record<string, never>>);
    const check = postgres(t.url!, { max: 1, onnotice: () => {} });
    try {
      const busy = [1, 2, 3].map(() => sql`select pg_sleep(0.2)`);
      const plain = Array.from({ length: 20 }, (_, i) => sql<{ n: number }[]>`select ${i}::int as n`);
      const transactions = Array.from({ length: 5 }, (_, i) =>
        sql.begin(async (tx) => {
          const [row] = await tx<{ n: number }[]>`select ${i}::int as n`;
          return row!.n;
        }),
      );
      expect(await Promise.all(transactions)).toEqual([0, 1, 2, 3, 4]);
      expect((await Promise.all(plain)).map((rows) => rows[0]!.n)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      await Promise.all(busy);
      const [open] = await check<{ n: number }[]>`
        select count(*)::int as n from pg_stat_activity
        where application_name = ${name} and state like 'idle in transaction%'`;
      expect(open!.n).toBe(0);
    } finally {
      await sql.end({ timeout: 1 });
      await check.end();
      await t.close();
    }
  });
});
