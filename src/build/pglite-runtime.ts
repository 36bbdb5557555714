/**
 * `bun run build:assets` (before start, test and build): PGlite's WebAssembly and its file
 * bundle, compressed with zstd for the binary to embed (src/db/client.ts). Both are read at every
 * start, and the pages of the binary they were read from stayed in its RSS: 15 MB as PGlite ships
 * them, 4 MB compressed (docs/footprint.md). Made again only when PGlite changes (the key beside them).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unlessCurrent } from "./made-once.ts";

const ROOT = join(import.meta.dir, "../..");
const PGLITE = join(ROOT, "node_modules/@electric-sql/pglite");
const OUT = join(ROOT, "static/build");
const FILES = ["pglite.wasm", "pglite.data"];
const KEY = join(OUT, "pglite-runtime.key");

export function compressRuntime(): Promise<"made" | "current"> {
  const key = createHash("sha256")
    .update(readFileSync(join(PGLITE, "package.json")))
    .digest("hex");
  const outputs = FILES.map((f) => join(OUT, `${f}.zst`));
  return unlessCurrent(KEY, key, outputs, async () => {
    mkdirSync(OUT, { recursive: true });
    for (const [i, f] of FILES.entries()) {
      // Level 19: made once per PGlite version (a few seconds); unpacking takes ~15 ms at any level.
      await Bun.write(
        outputs[i]!,
        await Bun.zstdCompress(await Bun.file(join(PGLITE, "dist", f)).bytes(), { level: 19 }),
      );
    }
  });
}

if (import.meta.main) {
  const started = performance.now();
  if ((await compressRuntime()) === "made") {
    const sizes = FILES.map((f) => `${f}.zst ${(Bun.file(join(OUT, `${f}.zst`)).size / 1e6).toFixed(1)} MB`);
    console.log(`static/build/: ${sizes.join(", ")} in ${Math.round(performance.now() - started)} ms`);
  }
}
