import { closeSync, openSync, readFileSync, readSync } from "node:fs";

/**
 * The bytes of a file embedded in the binary, read from the executable on disk rather than
 * through its mapping in memory: the binary's pages read through the mapping stay counted in the
 * process's RSS for as long as it lives, while a file's pages read with read() sit only in the
 * system's cache. For files read once: the database template (4.9 MB, at a first start: it kept a
 * first start's idle RSS ~5 MB over a later one's) and PGlite's compressed WebAssembly and file
 * bundle (3.8 MB, at every start; docs/footprint.md). Bun does not say where in the binary a file
 * is, so it is found by its first 4 KB within the ranges of the executable that are mapped
 * (/proc/self/maps), and checked by its last 4 KB at its size; gzip and zstd check its frames.
 * Wherever that fails (a run from source, not Linux, not found), the file is read as usual.
 */
export async function readEmbedded(file: Blob & { name?: string }): Promise<Uint8Array<ArrayBuffer>> {
  const embedded = Bun.embeddedFiles.some((f) => (f as Blob & { name?: string }).name === file.name);
  if (embedded && file.size > 2 * EDGE) {
    try {
      const head = await file.slice(0, EDGE).bytes();
      const tail = await file.slice(file.size - EDGE).bytes();
      const found = fromExecutable(head, tail, file.size);
      if (found) return found;
    } catch {}
  }
  return file.bytes();
}

const EDGE = 4096;
const CHUNK = 1024 * 1024;

function fromExecutable(head: Uint8Array, tail: Uint8Array, size: number): Uint8Array<ArrayBuffer> | undefined {
  // The executable's mapped ranges, as file offsets: last first (Bun appends the embedded files).
  const ranges = readFileSync("/proc/self/maps", "utf8")
    .split("\n")
    .map((line) => line.split(/\s+/))
    .filter((fields) => fields[5] === process.execPath)
    .map(([span, , offset]) => {
      const [start, end] = span!.split("-").map((hex) => Number.parseInt(hex, 16));
      return { from: Number.parseInt(offset!, 16), length: end! - start! };
    })
    .reverse();
  const fd = openSync(process.execPath, "r");
  try {
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (const { from, length } of ranges) {
      for (let at = 0; at < length; at += CHUNK - head.length) {
        const read = readSync(fd, chunk, 0, Math.min(CHUNK, length - at), from + at);
        const i = chunk.subarray(0, read).indexOf(head);
        if (i < 0) continue;
        const bytes = Buffer.allocUnsafe(size);
        for (let done = 0; done < size; ) {
          const n = readSync(fd, bytes, done, size - done, from + at + i + done);
          if (n === 0) return undefined;
          done += n;
        }
        return bytes.subarray(size - EDGE).equals(tail) ? bytes : undefined;
      }
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}
