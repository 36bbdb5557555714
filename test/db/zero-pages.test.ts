import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEMPLATE } from "../../src/build/pglite-template.ts";
import { openDatabase } from "../../src/db/client.ts";

const scratch = mkdtempSync(join(tmpdir(), "parley-zero-pages-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const MB = 1024 * 1024;
/** This process's resident anonymous memory, in bytes, as the kernel counts it. */
const rssAnon = () => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))![1]) * 1024;

test("the embedded database's pages of zeros are given back; its memory reads the same and its data stays", async () => {
  const database = await openDatabase({ url: undefined, dataDir: join(scratch, "db"), template: Bun.file(TEMPLATE) });
  try {
    const pglite = database.pglite!;
    await pglite.exec("create table notes (n int primary key, body text)");
    await pglite.exec("insert into notes select n, repeat(md5(n::text), 20) from generate_series(1, 20000) n");
    const contents = async () =>
      (
        await pglite.query<{ rows: number; total: string }>(
          "select count(*)::int rows, sum(length(body))::text total from notes",
        )
      ).rows[0];
    const stored = await contents();
    expect(stored).toEqual({ rows: 20000, total: String(20000 * 640) });

    const memory = () => pglite.Module.HEAPU8;
    const read = Bun.hash(memory());
    const before = rssAnon();
    const given = database.releaseZeroPages!();
    const after = rssAnon();
    // Postgres zeroes its 16 MB page cache at start; most of it is still zeros.
    expect(given).toBeGreaterThan(4 * MB);
    expect(before - after).toBeGreaterThan(4 * MB);
    expect(Bun.hash(memory())).toBe(read);

    // On as before: what was stored reads back, and what is written next is kept.
    expect(await contents()).toEqual(stored);
    await pglite.exec("insert into notes select n, md5(n::text) from generate_series(20001, 30000) n");
    expect((await contents())!.rows).toBe(30000);
  } finally {
    await database.close();
  }
});
