/**
 * PGlite's runtime, embedded in the binary: its WebAssembly (compiled once per process) and its
 * file bundle, whole for initdb and in part for opening a data directory. They are embedded
 * zstd-compressed (src/build/pglite-runtime.ts).
 */
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "../../static/build/pglite.data.zst" with { type: "file" };
import pgliteWasmPath from "../../static/build/pglite.wasm.zst" with { type: "file" };
import pgliteOpenDataPath from "../../static/build/pglite-open.data.zst" with { type: "file" };
import openLayoutJson from "../../static/build/pglite-open.json";
import type { OpenLayout } from "../build/pglite-runtime.ts";
import { readEmbedded } from "./embedded-file.ts";
import { INITIAL_MEMORY_BYTES, lowerMemoryMinimum } from "./wasm-memory.ts";

/** PGlite's module, and the memory it starts with when its module's minimum could be lowered. */
type CompiledPglite = { pgliteWasmModule: WebAssembly.Module; initialMemory?: number };

/** `make`'s result, made on the first call and kept, unless it failed (the next call tries again). */
function keptUnlessFailed<T>(make: () => Promise<T>): () => Promise<T> {
  let kept: Promise<T> | undefined;
  return () => {
    if (!kept) {
      kept = make();
      kept.catch(() => {
        kept = undefined;
      });
    }
    return kept;
  };
}

const pglite = keptUnlessFailed(async (): Promise<CompiledPglite> => {
  const bytes = await unpacked(pgliteWasmPath);
  const lowered = lowerMemoryMinimum(bytes);
  return {
    pgliteWasmModule: await WebAssembly.compile(bytes),
    initialMemory: lowered ? INITIAL_MEMORY_BYTES : undefined,
  };
});
const initdb = keptUnlessFailed(async () => WebAssembly.compile(await Bun.file(initdbWasmPath).bytes()));

/**
 * PGlite's WebAssembly, compiled once per process: a compile takes about a second, and a restore
 * or a test opens PGlite again. initdb's only when asked (`withInitdb`: a database made without
 * the build's template, as tests make in memory): a data directory made or opened otherwise
 * never runs it, and PGlite looks for it only then.
 */
export async function compiledWasm(
  withInitdb: boolean,
): Promise<CompiledPglite & { initdbWasmModule?: WebAssembly.Module }> {
  if (!withInitdb) return pglite();
  const [compiled, initdbWasmModule] = await Promise.all([pglite(), initdb()]);
  return { ...compiled, initdbWasmModule };
}

const openLayout = openLayoutJson as OpenLayout;

// Read once per process: from the executable file, so that the binary's pages they span do not
// stay counted as the process's own.
const unpacked = async (path: string): Promise<Uint8Array> => Bun.zstdDecompress(await readEmbedded(Bun.file(path)));

/**
 * PGlite's file bundle as PGlite reads it (it only calls `arrayBuffer()`): the unpacked bytes
 * handed over as they are, where a Blob would copy them. Its files are views of those bytes, so a
 * second reader (the PGlite that runs initdb) gets a copy.
 *
 * `opening` (no initdb: a data directory opened, unpacked or loaded): only the files such a start
 * can read (src/build/pglite-runtime.ts), 1.6 of 6.2 MB, each at its place in a bundle of the
 * full size. Where the others were stays untouched zeros, pages the system never has to back;
 * `forgetLeftOut` then removes those files, so that reading one fails rather than reads zeros.
 */
export function fileBundle(opening: boolean): Blob {
  const unpacking = opening ? unpackedOpenBundle() : unpacked(pgliteDataPath);
  unpacking.catch(() => {}); // reported by arrayBuffer(), if PGlite gets that far
  let taken = false;
  const arrayBuffer = async () => {
    const bytes = await unpacking;
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    if (taken || !whole) return bytes.slice().buffer;
    taken = true;
    return bytes.buffer;
  };
  return { arrayBuffer } as Blob;
}

async function unpackedOpenBundle(): Promise<Uint8Array> {
  const pieces = await unpacked(pgliteOpenDataPath);
  const bundle = new Uint8Array(openLayout.size);
  let at = 0;
  for (const [start, end] of openLayout.ranges) {
    bundle.set(pieces.subarray(at, at + end - start), start);
    at += end - start;
  }
  if (at !== pieces.length) throw new Error("PGlite's file bundle does not match its layout: build it again");
  return bundle;
}

/** After a start with `fileBundle(true)`: the files it left out, removed from PGlite's file system. */
export function forgetLeftOut(fs: { unlink(path: string): void }) {
  for (const path of openLayout.left) fs.unlink(path);
}
