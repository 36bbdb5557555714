import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join, normalize } from "node:path";
import { readEmbedded } from "./embedded-file.ts";

/**
 * Present in DATA_DIR while a data directory is being unpacked into it: a start that finds it
 * knows the last one died half-way and unpacks again. PG_VERSION is written last of all, so a
 * folder without this marker and with PG_VERSION holds a whole data directory.
 */
const UNPACKING = ".parley-unpacking";

/** Whether `dir` holds a data directory unpacked only in part (a start killed while unpacking). */
export function unpackedInPart(dir: string): boolean {
  return existsSync(join(dir, UNPACKING));
}

/**
 * Writes the data directory in a gzip'd tar (PGlite's `dumpDataDir("gzip")`) into `dir`, file by
 * file, straight to disk. PGlite's own `loadDataDir` unpacks it inside its WebAssembly file
 * system first: a first start peaked ~180 MB higher that way (docs/footprint.md). Entries other
 * than folders and plain files (PGlite writes none) and any name leaving `dir` are refused.
 * `keep` names files already in `dir` that are not part of it (the lock).
 */
export async function unpackDataDir(archive: Blob, dir: string, keep: string[] = []): Promise<void> {
  for (const name of readdirSync(dir)) if (!keep.includes(name)) rmSync(join(dir, name), { recursive: true });
  closeSync(openSync(join(dir, UNPACKING), "w"));
  const tar = Bun.gunzipSync(await readEmbedded(archive));
  let last: { path: string; bytes: Uint8Array } | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = text(header, 345, 155) ? `${text(header, 345, 155)}/${text(header, 0, 100)}` : text(header, 0, 100);
    const size = Number.parseInt(text(header, 124, 12).trim() || "0", 8);
    const type = String.fromCharCode(header[156]!);
    const bytes = tar.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    const relative = normalize(name.replace(/^\/+/, "")).replace(/\/+$/, "");
    if (!relative || relative === ".") continue;
    if (relative.startsWith("..") || Number.isNaN(size) || bytes.length !== size) {
      throw new Error(`the database template is damaged (at "${name}")`);
    }
    const path = join(dir, relative);
    if (type === "5") mkdirSync(path, { recursive: true, mode: 0o700 });
    else if (type === "0" || type === "\0") {
      if (relative === "PG_VERSION") last = { path, bytes };
      else write(path, bytes);
    } else throw new Error(`the database template holds an entry of type "${type}" (at "${name}")`);
  }
  if (!last) throw new Error("the database template has no PG_VERSION");
  write(last.path, last.bytes);
  rmSync(join(dir, UNPACKING));
}

function text(header: Uint8Array, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
}

function write(path: string, bytes: Uint8Array) {
  mkdirSync(join(path, ".."), { recursive: true, mode: 0o700 });
  const fd = openSync(path, "w", 0o600);
  try {
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
  } finally {
    closeSync(fd);
  }
}
