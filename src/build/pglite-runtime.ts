/**
 * `bun run build:assets` (before start, test and build): PGlite's WebAssembly and its file
 * bundle, compressed with zstd for the binary to embed (src/db/pglite-runtime.ts). Both are read
 * at every start, and the pages of the binary they were read from stayed in its RSS: 15 MB as
 * PGlite ships them, 4 MB compressed (docs/footprint.md). Made again only when PGlite or this
 * script changes (the key beside them).
 *
 * Also the bundle as a start that opens a data directory needs it (no initdb): the files only
 * initdb, building extensions or converting between encodings read are left out, and a JSON
 * layout says where the rest go in the bundle PGlite expects, and which were left out.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { unlessCurrent } from "./made-once.ts";

const ROOT = join(import.meta.dir, "../..");
const PGLITE = join(ROOT, "node_modules/@electric-sql/pglite");
const OUT = join(ROOT, "static/build");
const FILES = ["pglite.wasm", "pglite.data"];
const OPEN_DATA = join(OUT, "pglite-open.data.zst");
const OPEN_LAYOUT = join(OUT, "pglite-open.json");
const KEY = join(OUT, "pglite-runtime.key");

/**
 * What a database opened from its files never reads. Each is read only by: initdb (the catalog's
 * bootstrap and the SQL it runs after), conversions between the server's UTF8 and another client
 * encoding (Parley's connections are UTF8), ICU (Parley's databases use the C locale's libc
 * provider and name no ICU collation), building extensions (pgxs), replication (walreceiver,
 * pgoutput), and Postgres's own build (errcodes.txt).
 */
const NOT_OPENED = [
  /^\/pglite\/share\/postgresql\/(postgres\.bki|information_schema\.sql|system_\w+\.sql|snowball_create\.sql|sql_features\.txt|errcodes\.txt)$/,
  /^\/pglite\/lib\/postgresql\/\w+_and_\w+\.so$/,
  /^\/pglite\/lib\/postgresql\/euc2004_sjis2004\.so$/,
  /^\/pglite\/icu\//,
  /^\/pglite\/lib\/postgresql\/pgxs\//,
  /^\/pglite\/lib\/postgresql\/(libpqwalreceiver|pgoutput)\.so$/,
];

/** The bundle's files and where each is in pglite.data: PGlite lists them in its loader. */
function bundleFiles(): { name: string; start: number; end: number }[] {
  const loader = readFileSync(join(PGLITE, "dist/pglite.js"), "utf8");
  const files = [...loader.matchAll(/\{filename:"([^"]+)",start:(\d+),end:(\d+)\}/g)].map((m) => ({
    name: m[1]!,
    start: Number(m[2]),
    end: Number(m[3]),
  }));
  if (files.length < 100) throw new Error("PGlite's loader no longer lists its bundle's files as it did");
  return files;
}

/** The layout of pglite-open.data: its pieces, in order, go at `ranges` of a bundle of `size`. */
export type OpenLayout = { size: number; ranges: [number, number][]; left: string[] };

async function writeOpenBundle(data: Uint8Array) {
  const ranges: [number, number][] = [];
  const left: string[] = [];
  for (const { name, start, end } of bundleFiles()) {
    if (NOT_OPENED.some((pattern) => pattern.test(name))) left.push(name);
    else if (ranges.at(-1)?.[1] === start) ranges.at(-1)![1] = end;
    else ranges.push([start, end]);
  }
  const pieces = Buffer.concat(ranges.map(([start, end]) => data.subarray(start, end)));
  await Bun.write(OPEN_DATA, await Bun.zstdCompress(pieces, { level: 19 }));
  await Bun.write(OPEN_LAYOUT, JSON.stringify({ size: data.length, ranges, left } satisfies OpenLayout));
}

export function compressRuntime(): Promise<"made" | "current"> {
  const key = createHash("sha256")
    .update(readFileSync(join(PGLITE, "package.json")))
    .update(readFileSync(import.meta.path))
    .digest("hex");
  const outputs = [...FILES.map((f) => join(OUT, `${f}.zst`)), OPEN_DATA, OPEN_LAYOUT];
  return unlessCurrent(KEY, key, outputs, async () => {
    mkdirSync(OUT, { recursive: true });
    for (const [i, f] of FILES.entries()) {
      // Level 19: made once per PGlite version (a few seconds); unpacking takes ~15 ms at any level.
      await Bun.write(
        outputs[i]!,
        await Bun.zstdCompress(await Bun.file(join(PGLITE, "dist", f)).bytes(), { level: 19 }),
      );
    }
    await writeOpenBundle(await Bun.file(join(PGLITE, "dist", "pglite.data")).bytes());
  });
}

if (import.meta.main) {
  const started = performance.now();
  if ((await compressRuntime()) === "made") {
    const sizes = [...FILES.map((f) => `${f}.zst`), "pglite-open.data.zst"].map(
      (f) => `${f} ${(Bun.file(join(OUT, f)).size / 1e6).toFixed(1)} MB`,
    );
    console.log(`static/build/: ${sizes.join(", ")} in ${Math.round(performance.now() - started)} ms`);
  }
}
