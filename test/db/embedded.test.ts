import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { TEMPLATE } from "../../src/build/pglite-template.ts";
import { type Database, LOCK_FILE, openDatabase } from "../../src/db/client.ts";
import { migrate, migrations } from "../../src/db/migrate.ts";

const scratch = mkdtempSync(join(tmpdir(), "parley-embedded-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const template = () => Bun.file(TEMPLATE);
const open = (dir: string, cacheMb?: number) =>
  openDatabase({ url: undefined, dataDir: dir, template: template(), cacheMb });

async function show(database: Database, setting: string): Promise<string> {
  const [row] = await database.rows<Record<string, string>>(sql.raw(`show ${setting}`));
  return Object.values(row!)[0]!;
}

/** A gzip'd tar holding one entry named `name` (ustar: a 512-byte header, then the data). */
function tarWith(name: string, data = "x"): Blob {
  const header = new Uint8Array(512);
  const put = (text: string, at: number) => header.set(new TextEncoder().encode(text), at);
  put(name, 0);
  put("0000600\0", 100);
  put(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
  put("0", 156);
  put("ustar\0", 257);
  const body = new Uint8Array(512);
  body.set(new TextEncoder().encode(data));
  return new Blob([Bun.gzipSync(new Uint8Array([...header, ...body, ...new Uint8Array(1024)]))]);
}

describe("the embedded database's data directory", () => {
  test("a new DATA_DIR is unpacked from the build's template: every migration applied, the cache as set", async () => {
    const dir = join(scratch, "new");
    const database = await open(dir, 24);
    try {
      expect(existsSync(join(dir, "PG_VERSION"))).toBe(true);
      expect(readdirSync(dir)).not.toContain(".parley-unpacking");
      expect(await migrate(database)).toEqual({ applied: 0, total: migrations.length });
      expect(await show(database, "shared_buffers")).toBe("24MB");
      await database.rows(sql`insert into users (id, username) values (gen_random_uuid(), 'kept')`);
    } finally {
      await database.close();
    }
    // A later start opens the same files: what was written is there, the cache is the default.
    const again = await open(dir);
    try {
      expect(await again.rows(sql`select username from users`)).toEqual([{ username: "kept" }]);
      expect(await show(again, "shared_buffers")).toBe("32MB");
    } finally {
      await again.close();
    }
  });

  test("opened from its files, PGlite holds only the files such a start reads, and works as one made by initdb", async () => {
    const dir = join(scratch, "opened");
    await (await open(dir)).close();
    const opened = await open(dir);
    const made = await openDatabase({ url: undefined, dataDir: "memory://" });
    try {
      const fs = opened.pglite!.Module.FS;
      // initdb's catalog and an encoding conversion are gone: reading one fails rather than reads zeros.
      for (const path of ["/pglite/share/postgresql/postgres.bki", "/pglite/lib/postgresql/utf8_and_sjis.so"]) {
        expect(fs.analyzePath(path).exists).toBe(false);
        expect(made.pglite!.Module.FS.analyzePath(path).exists).toBe(true);
      }
      // What they read from the bundle: the stemmer's library and stop words, PL/pgSQL, time zones.
      await migrate(made);
      const statements = [
        sql`select to_tsvector('english', 'The runners were running to the stations')::text as v`,
        sql`select (timestamptz '2026-01-01 12:00Z' at time zone 'Asia/Tokyo')::text as v`,
        sql`with u as (insert into users (id, username) values (gen_random_uuid(), 'p') returning id),
          c as (insert into chats (id, user_id, title, model) select gen_random_uuid(), id, 't', 'm' from u returning id)
          insert into messages (id, chat_id, role, content, status)
          select gen_random_uuid(), id, 'user', 'Quokkas jumping', 'complete' from c
          returning search::text as v`,
      ];
      const answers: string[] = [];
      for (const statement of statements) {
        const [got] = await opened.rows<{ v: string }>(statement);
        const [expected] = await made.rows<{ v: string }>(statement);
        expect(got!.v).toBe(expected!.v);
        answers.push(got!.v);
      }
      expect(answers).toEqual(["'run':4 'runner':2 'station':7", "2026-01-01 21:00:00", "'jump':2 'quokka':1"]);
    } finally {
      await opened.close();
      await made.close();
    }
  });

  test("a start killed while unpacking leaves its marker; the next start unpacks again over what it left", async () => {
    const dir = join(scratch, "half");
    mkdirSync(join(dir, "base", "5"), { recursive: true });
    writeFileSync(join(dir, ".parley-unpacking"), "");
    writeFileSync(join(dir, "base", "5", "1259"), "half a file");
    writeFileSync(join(dir, "postgresql.conf"), "not what the template holds");
    writeFileSync(join(dir, LOCK_FILE), "999999999");
    const database = await open(dir);
    try {
      expect(readdirSync(dir)).not.toContain(".parley-unpacking");
      expect(await migrate(database)).toEqual({ applied: 0, total: migrations.length });
      expect(await database.rows(sql`select count(*)::int as n from users`)).toEqual([{ n: 0 }]);
    } finally {
      await database.close();
    }
  });

  test("a template that is damaged or names a file outside DATA_DIR is refused, and the folder left empty", async () => {
    const cases: [string, Blob, RegExp][] = [
      ["outside", tarWith("../escaped"), /damaged/],
      ["truncated", new Blob([(await template().bytes()).subarray(0, 4096)]), /embedded database/],
      ["no-version", tarWith("/base/1/1"), /no PG_VERSION/],
    ];
    for (const [name, archive, reason] of cases) {
      const dir = join(scratch, "bad", name);
      const opening = openDatabase({ url: undefined, dataDir: dir, template: archive });
      await expect(opening).rejects.toThrow(reason);
      expect(existsSync(dir)).toBe(false);
      expect(existsSync(join(scratch, "bad", "escaped"))).toBe(false);
    }
  });
});
