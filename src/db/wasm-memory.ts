/**
 * PGlite's WebAssembly asks for 128 MB of memory from the start (its memory import's minimum),
 * of which an idle Parley touches about 30. The untouched part costs no RAM, but JavaScriptCore
 * counts the whole of it (twice: the memory and its buffer) in the heap size its collector grows
 * from, so it let ~170 MB of garbage pile up before collecting (docs/footprint.md). Starting the
 * memory small and letting Postgres grow it, as PGlite's build allows, keeps that count near what
 * is used.
 */

/** The memory PGlite starts with; it grows in place as Postgres asks for more. */
export const INITIAL_MEMORY_BYTES = 16 * 1024 * 1024;
const PAGE = 64 * 1024;

// `env.memory` imported as a memory (kind 2) with a maximum (flags 1): what PGlite's build declares.
const IMPORT = Uint8Array.from([3, ...new TextEncoder().encode("env"), 6, ...new TextEncoder().encode("memory"), 2, 1]);

/**
 * `wasm` with its memory import's minimum lowered to INITIAL_MEMORY_BYTES, in place. The
 * minimum is a LEB128 number; it is rewritten only when the new one takes as many bytes, so
 * nothing else in the module moves. Returns false (and leaves the bytes alone) if the import is
 * not found as expected: PGlite then starts with its own 128 MB.
 */
export function lowerMemoryMinimum(wasm: Uint8Array): boolean {
  const at = indexOf(wasm, IMPORT);
  if (at < 0) return false;
  const start = at + IMPORT.length;
  let end = start;
  while (end < wasm.length && wasm[end]! & 0x80) end++;
  const current = leb128(INITIAL_MEMORY_BYTES / PAGE);
  if (end + 1 - start !== current.length || decode(wasm.subarray(start, end + 1)) < INITIAL_MEMORY_BYTES / PAGE) {
    return false;
  }
  wasm.set(current, start);
  return true;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle);
}

function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    const byte = n & 0x7f;
    n >>>= 7;
    out.push(n ? byte | 0x80 : byte);
  } while (n);
  return out;
}

function decode(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.length - 1; i >= 0; i--) n = n * 128 + (bytes[i]! & 0x7f);
  return n;
}
