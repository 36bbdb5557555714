import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import type { Database } from "../../src/db/client.ts";
import { rootDbError } from "../../src/db/errors.ts";
import { chats } from "../../src/db/schema.ts";
import {
  type Cluster,
  canMountSmallDisk,
  canStartCluster,
  mountSmallDisk,
  noise,
  pgliteWithAnswer,
  type SmallDisk,
  startCluster,
  startTcpProxy,
  type TcpProxy,
} from "../support/faults.ts";

/** What a statement fails with (its driver's code), or "ok". */
const outcome = (query: PromiseLike<unknown>) =>
  Promise.resolve(query).then(
    () => "ok",
    (err) => String(rootDbError(err).code),
  );

/**
 * A client like src/db/client.ts's, without postgres.js's reconnect backoff (up to 20 s between
 * tries), so that a test sees the server's return at once.
 */
const client = (url: string) => postgres(url, { max: 3, connect_timeout: 10, backoff: () => 0, onnotice: () => {} });

describe.if(canStartCluster())("fault support: a Postgres that goes away and comes back", () => {
  let cluster: Cluster;
  let proxy: TcpProxy;
  let sql: postgres.Sql;
  beforeAll(async () => {
    cluster = await startCluster();
    proxy = startTcpProxy(cluster.adminUrl);
  });
  afterAll(async () => {
    await sql?.end({ timeout: 1 });
    proxy?.stop();
    await cluster?.destroy();
  });

  test("a stopped cluster refuses, and starts again on the same port with what was committed", async () => {
    sql = client(cluster.adminUrl);
    await sql`create table kept (n int)`;
    await sql`insert into kept values (1)`;
    for (const mode of ["immediate", "fast"] as const) {
      await cluster.stop(mode);
      expect(cluster.running()).toBe(false);
      expect(await outcome(sql`select 1`)).toBe("ECONNREFUSED");
      await cluster.start();
      expect(await outcome(sql`select 1`)).toBe("ok");
      expect([...(await sql`select n from kept`)]).toEqual([{ n: 1 }]);
    }
    expect(cluster.log()).toContain("database system is ready to accept connections");
  });

  test("cut() resets (or closes) open connections and refuses new ones until restore()", async () => {
    const through = client(proxy.url(cluster.adminUrl));
    try {
      expect(await outcome(through`select 1`)).toBe("ok");
      expect(proxy.open).toBe(1);
      const inFlight = outcome(through`select pg_sleep(5)`);
      await Bun.sleep(100);
      proxy.cut();
      expect(await inFlight).toBe("ECONNRESET");
      expect(proxy.open).toBe(0);
      expect(await outcome(through`select 1`)).toBe("ECONNREFUSED");
      proxy.restore();
      expect(await outcome(through`select 1`)).toBe("ok");
      // Gently, as a stopping server closes them.
      const closing = outcome(through`select pg_sleep(5)`);
      await Bun.sleep(100);
      proxy.cut("close");
      expect(await closing).toBe("CONNECTION_CLOSED");
      proxy.restore();
      expect(await outcome(through`select 1`)).toBe("ok");
    } finally {
      proxy.restore();
      await through.end({ timeout: 1 });
    }
  });

  test("blackhole() holds every byte both ways; restore() delivers them as a healed network would", async () => {
    const through = client(proxy.url(cluster.adminUrl));
    try {
      expect(await outcome(through`select 1`)).toBe("ok");
      proxy.blackhole();
      let settled = false;
      const held = through`select 42 as n`.then((rows) => {
        settled = true;
        return rows;
      });
      await Bun.sleep(300);
      expect(settled).toBe(false);
      proxy.restore();
      expect([...(await held)]).toEqual([{ n: 42 }]);
    } finally {
      await through.end({ timeout: 1 });
    }
  });
});

describe.if(canMountSmallDisk())("fault support: a full disk", () => {
  let disk: SmallDisk;
  let database: Database | undefined;
  let cluster: Cluster | undefined;
  beforeAll(() => {
    disk = mountSmallDisk(96);
  });
  afterAll(async () => {
    await database?.close();
    await cluster?.destroy();
    const path = disk?.path;
    disk?.unmount();
    if (path) expect(readFileSync("/proc/mounts", "utf8")).not.toContain(path);
  });

  test("fill() leaves no byte; free() gives the room back", () => {
    const before = disk.available();
    expect(disk.fill()).toBeGreaterThan(before - 64 * 1024);
    expect(disk.available()).toBe(0);
    disk.free();
    expect(disk.available()).toBe(before);
    disk.fill(64 * 1024);
    expect(disk.available()).toBe(64 * 1024);
    disk.free();
  });

  test("PGlite on it: a write that needs room fails with 53100 (No space left on device), reads go on, and writes work again after free()", async () => {
    const answering = await pgliteWithAnswer(join(disk.path, "pglite"));
    database = answering.database;
    const { save } = answering;

    disk.fill();
    const failed = await save(noise(100_000)).catch((err: unknown) => err);
    const cause = rootDbError(failed);
    expect(cause.code).toBe("53100");
    expect(cause.message).toContain("No space left on device");
    expect(await database.db.select().from(chats)).toHaveLength(1);

    disk.free();
    expect(await outcome(save("after"))).toBe("ok");
  });

  test("a Postgres cluster on it: a write that needs a new page fails with 53100, reads go on, and it writes again after free()", async () => {
    cluster = await startCluster({ parent: disk.path });
    const sql = client(cluster.adminUrl);
    try {
      await sql`create table t (content text)`;
      disk.fill();
      expect(await outcome(sql`insert into t values (${noise(200_000)})`)).toBe("53100");
      expect(await outcome(sql`select count(*) from t`)).toBe("ok");
      disk.free();
      expect(await outcome(sql`insert into t values (${noise(200_000)})`)).toBe("ok");
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
