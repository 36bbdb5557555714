/**
 * PGlite's runtime, embedded in the binary: its WebAssembly (compiled once per process) and its
 * file bundle. The two large files are embedded zstd-compressed (src/build/pglite-runtime.ts).
 */
import initdbWasmPath from "@electric-sql/pglite/initdb.wasm" with { type: "file" };
import pgliteDataPath from "../../static/build/pglite.data.zst" with { type: "file" };
import pgliteWasmPath from "../../static/build/pglite.wasm.zst" with { type: "file" };
import { INITIAL_MEMORY_BYTES, lowerMemoryMinimum } from "./wasm-memory.ts";

/** PGlite's modules, and the memory it starts with when its module's minimum could be lowered. */
type CompiledWasm = {
  pgliteWasmModule: WebAssembly.Module;
  initdbWasmModule: WebAssembly.Module;
  initialMemory?: number;
};
let wasm: Promise<CompiledWasm> | undefined;

/** PGlite's WebAssembly, compiled once per process: a compile takes about a second, and a restore or a test opens PGlite again. */
export function compiledWasm(): Promise<CompiledWasm> {
  wasm ??= Promise.all([unpacked(pgliteWasmPath), Bun.file(initdbWasmPath).bytes()]).then(async ([pglite, initdb]) => {
    const lowered = lowerMemoryMinimum(pglite);
    const [pgliteWasmModule, initdbWasmModule] = await Promise.all([
      WebAssembly.compile(pglite),
      WebAssembly.compile(initdb),
    ]);
    return { pgliteWasmModule, initdbWasmModule, initialMemory: lowered ? INITIAL_MEMORY_BYTES : undefined };
  });
  wasm.catch(() => {
    wasm = undefined;
  });
  return wasm;
}

const unpacked = async (path: string): Promise<Uint8Array> => Bun.zstdDecompress(await Bun.file(path).bytes());

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
