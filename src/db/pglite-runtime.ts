/**
 * PGlite's runtime, embedded in the binary: its WebAssembly (compiled once per process) and its
 * file bundle. The two large files are embedded zstd-compressed (src/build/pglite-runtime.ts).
 */
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "../../static/build/pglite.data.zst" with { type: "file" };
import pgliteWasmPath from "../../static/build/pglite.wasm.zst" with { type: "file" };
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

// Read once per process: from the executable file, so that the binary's pages they span do not stay counted as the process's own.
const unpacked = async (path: string): Promise<Uint8Array> => Bun.zstdDecompress(await readEmbedded(Bun.file(path)));

/**
 * PGlite's file bundle as PGlite reads it (it only calls `arrayBuffer()`): the unpacked bytes
 * handed over as they are, where a Blob would copy them. Its files are views of those bytes, so a
 * second reader (the PGlite that runs initdb) gets a copy.
 */
export function fileBundle(): Blob {
  const unpacking = unpacked(pgliteDataPath);
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
