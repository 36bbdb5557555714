import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { dumpPglite, tarEntries } from "../../src/backup/format.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { pgliteTemplate } from "../support/db.ts";

// The running server's copy of the embedded database (what `parley backup` asks it for).
const scratch = mkdtempSync(join(tmpdir(), "parley-snapshot-"));
const dataDir = join(scratch, "data");
let database: Database;

beforeAll(async () => {
  database = await openDatabase({ url: undefined, dataDir, loadDataDir: await pgliteTemplate() });
  await database.rows(sql`
    insert into users (id, username, password_hash) values (gen_random_uuid(), 'ann', 'x')`);
  await database.rows(sql`
    insert into chats (id, user_id, title, model)
    select gen_random_uuid(), (select id from users), 'Chat ' || i, 'fake/fast' from generate_series(1, 200) i`);
});
afterAll(async () => {
  await database.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** Each entry's name and bytes, the runtime files (the lock) left out as a backup leaves them out. */
function files(tar: Uint8Array): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of tarEntries(tar)) {
    if (e.name === "parley.pid") continue;
    out.set(e.name, Bun.hash(tar.subarray(e.start + 512, e.end)).toString());
  }
  return out;
}

test("the copy is read with the event loop turning: streams and timers go on while a backup is made", async () => {
  let turns = 0;
  let copying = true;
  const counting = (async () => {
    while (copying) {
      await new Promise((resolve) => setImmediate(resolve));
      turns++;
    }
  })();
  await dumpPglite(database.pglite!, dataDir);
  copying = false;
  await counting;
  // A data directory holds about a thousand files, each read with async I/O; PGlite's own dump
  // read them all in one go, with not one turn of the loop until it was done.
  expect(turns).toBeGreaterThan(100);
});

test("the copy holds the files PGlite's own dump holds, byte for byte, and opens as a database", async () => {
  const ours = await dumpPglite(database.pglite!, dataDir);
  const theirs = new Uint8Array(await (await database.pglite!.dumpDataDir("none")).arrayBuffer());
  expect(files(ours)).toEqual(files(theirs));

  const restored = await openDatabase({ url: undefined, dataDir: "memory://", loadDataDir: new Blob([ours]) });
  try {
    const [row] = await restored.rows<{ n: number }>(sql`select count(*)::int as n from chats`);
    expect(row!.n).toBe(200);
  } finally {
    await restored.close();
  }
});
