import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pgliteWasmPath from "@electric-sql/pglite/pglite.wasm" with { type: "file" };
import { sql } from "drizzle-orm";
import { TEMPLATE } from "../../src/build/pglite-template.ts";
import { openDatabase } from "../../src/db/client.ts";
import { INITIAL_MEMORY_BYTES, lowerMemoryMinimum } from "../../src/db/wasm-memory.ts";

const scratch = mkdtempSync(join(tmpdir(), "parley-wasm-memory-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const PAGE = 64 * 1024;
const IMPORT = Buffer.from("\x03env\x06memory\x02\x01", "latin1");

/** The minimum, in pages, of the module's `env.memory` import, read from its bytes. */
function memoryMinimum(wasm: Uint8Array): number {
  let at = Buffer.from(wasm).indexOf(IMPORT) + IMPORT.length;
  let pages = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = wasm[at++]!;
    pages += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) return pages;
  }
}

describe("PGlite's WebAssembly memory", () => {
  test("PGlite's own module asks for 128 MB; lowered, only that number changes and it still compiles", async () => {
    const original = await Bun.file(pgliteWasmPath).bytes();
    expect(memoryMinimum(original) * PAGE).toBe(128 * 1024 * 1024);
    const lowered = original.slice();
    expect(lowerMemoryMinimum(lowered)).toBe(true);
    expect(memoryMinimum(lowered) * PAGE).toBe(INITIAL_MEMORY_BYTES);
    const changed = [...lowered.keys()].filter((i) => lowered[i] !== original[i]);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThanOrEqual(2);
    const module = await WebAssembly.compile(lowered);
    expect(WebAssembly.Module.imports(module)).toContainEqual({ module: "env", name: "memory", kind: "memory" });
  });

  test("a module without that import, or asking for less already, is left as it is", () => {
    const minimal = Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    expect(lowerMemoryMinimum(minimal)).toBe(false);
    expect([...minimal]).toEqual([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    // An import of 1 page (LEB128 0x01), with a maximum: already below 16 MB.
    const small = Uint8Array.from([...IMPORT, 0x01, 0x80, 0x80, 0x02]);
    expect(lowerMemoryMinimum(small)).toBe(false);
    expect(memoryMinimum(small)).toBe(1);
  });

  test("the embedded database starts small and grows as Postgres needs more: a 100 MB result, then on as before", async () => {
    const database = await openDatabase({
      url: undefined,
      dataDir: join(scratch, "grow"),
      template: Bun.file(TEMPLATE),
    });
    const memory = () => (database.pglite as unknown as { mod: { HEAPU8: Uint8Array } }).mod.HEAPU8.length;
    try {
      const atStart = memory();
      expect(atStart).toBeLessThan(128 * 1024 * 1024);
      const [row] = await database.rows<{ n: number }>(
        sql`select length(string_agg(md5(i::text), '')) as n from generate_series(1, 3000000) as i`,
      );
      expect(row!.n).toBe(96_000_000);
      expect(memory()).toBeGreaterThan(atStart + 96_000_000);
      await database.rows(sql`insert into users (id, username) values (gen_random_uuid(), 'after')`);
      expect(await database.rows(sql`select username from users`)).toEqual([{ username: "after" }]);
    } finally {
      await database.close();
    }
  });
});
