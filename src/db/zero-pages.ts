import { dlopen, ptr } from "bun:ffi";

/**
 * Gives back to the system the pages of PGlite's WebAssembly memory that hold only zeros.
 * Postgres zeroes its page cache (shared_buffers) when it starts, so an idle embedded database
 * holds ~20 MB of pages that say nothing (docs/footprint.md). The kernel drops such a page
 * (madvise MADV_DONTNEED on private anonymous memory) and hands a fresh zeroed one back at its
 * next touch: what the memory reads is unchanged. Safe only because nothing writes this memory
 * between the check and the drop: the WebAssembly runs on this thread alone (a shared memory,
 * which other threads could write, is left as it is), and both happen in one synchronous call.
 * Linux only (glibc or musl); elsewhere, or if libc cannot be opened, nothing is given back.
 */
export function createZeroPageRelease(): ((memory: Uint8Array) => number) | undefined {
  const libc = openLibc();
  if (!libc) return undefined;
  const page = libc.symbols.getpagesize();
  const zeros = Buffer.alloc(page);
  return (memory) => {
    if (memory.buffer instanceof SharedArrayBuffer) return 0;
    const bytes = Buffer.from(memory.buffer, memory.byteOffset, memory.byteLength);
    const base = ptr(bytes);
    // Runs of whole zero pages, each dropped with one call.
    let given = 0;
    let at = (page - (base % page)) % page;
    while (at + page <= bytes.length) {
      if (!isZero(bytes, at, page, zeros)) {
        at += page;
        continue;
      }
      let end = at + page;
      while (end + page <= bytes.length && isZero(bytes, end, page, zeros)) end += page;
      if (libc.symbols.madvise(base + at, end - at, MADV_DONTNEED) === 0) given += end - at;
      at = end;
    }
    return given;
  };
}

const MADV_DONTNEED = 4;

function isZero(bytes: Buffer, at: number, page: number, zeros: Buffer): boolean {
  return bytes.compare(zeros, 0, page, at, at + page) === 0;
}

function openLibc() {
  if (process.platform !== "linux") return undefined;
  for (const name of ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`]) {
    try {
      return dlopen(name, {
        madvise: { args: ["ptr", "usize", "i32"], returns: "i32" },
        getpagesize: { args: [], returns: "i32" },
      });
    } catch {}
  }
  return undefined;
}
