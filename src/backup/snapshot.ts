import { statfsSync } from "node:fs";
import { lstat, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { ConfigError } from "../config.ts";

/**
 * A consistent copy of the embedded database's files, as the pieces of a tar, taken while the
 * server runs. PGlite's own dumpDataDir reads the whole folder synchronously on the server's
 * thread: a 237 MB folder froze every stream for 2.8 s. Here the files are read from disk with
 * async I/O instead, while PGlite's locks are held: no statement runs (so the files on disk hold
 * every committed transaction and nothing half-written: its WAL is written at each commit) and
 * no transaction is open (the copy never falls between two statements of one). Statements wait
 * meanwhile; streams, timers and requests that need no database go on.
 */
export async function snapshotPglite(pglite: PGlite, dataDir: string): Promise<Uint8Array[]> {
  refuseOnAFullDisk(dataDir);
  // The files then hold everything committed, so a restore has little WAL to replay.
  await pglite.exec("checkpoint");
  return pglite._runExclusiveTransaction(() => pglite._runExclusiveQuery(() => tarOf(dataDir)));
}

/** Room a checkpoint may need (it writes the pages changed since the last one into their files). */
const CHECKPOINT_ROOM = 32 * 1024 * 1024;

/**
 * A checkpoint that runs out of room PANICs inside PGlite, and the embedded database then answers
 * wrongly, then not at all, until the process is killed (nothing committed is lost). No backup is
 * worth that: on a nearly full disk it is refused with what to do.
 */
function refuseOnAFullDisk(dataDir: string) {
  const { bavail, bsize } = statfsSync(dataDir);
  const free = bavail * bsize;
  if (free >= CHECKPOINT_ROOM) return;
  throw new BackupRefused(
    `The disk holding DATA_DIR (${dataDir}) has ${Math.floor(free / (1024 * 1024))} MB free, and a backup needs at least ${CHECKPOINT_ROOM / (1024 * 1024)} MB there to start (a checkpoint on a full disk stops the embedded database); free some space, then back up.`,
  );
}

/** A backup that is refused before anything was done, with a sentence that says why. */
export class BackupRefused extends ConfigError {}

/**
 * A folder as a plain ustar archive (names relative to it, directories included, as PGlite's dump
 * writes them and its loader reads them back), in pieces: each header and each file's bytes.
 */
async function tarOf(root: string): Promise<Uint8Array[]> {
  const pieces: Uint8Array[] = [];
  const walk = async (relative: string) => {
    for (const name of (await readdir(join(root, relative))).sort()) {
      const path = relative ? `${relative}/${name}` : name;
      const stat = await lstat(join(root, path));
      if (stat.isDirectory()) {
        pieces.push(header(path, 0, stat.mode, stat.mtimeMs, DIRECTORY));
        await walk(path);
      } else if (stat.isFile()) {
        // Read whole, not from the size stat saw: nothing writes meanwhile, but the header must say what follows.
        const bytes = await readFile(join(root, path));
        pieces.push(header(path, bytes.length, stat.mode, stat.mtimeMs, FILE), bytes);
        const padding = (512 - (bytes.length % 512)) % 512;
        if (padding) pieces.push(new Uint8Array(padding));
      }
      // Anything else (a socket, a link) is no part of a data directory PGlite made.
    }
  };
  await walk("");
  pieces.push(new Uint8Array(1024)); // the end of the archive: two empty records
  return pieces;
}

const FILE = "0";
const DIRECTORY = "5";

/** A ustar header: name, mode, size and time in octal, the checksum over it all. */
function header(name: string, size: number, mode: number, mtimeMs: number, type: string): Uint8Array {
  const bytes = new Uint8Array(512);
  const encoded = new TextEncoder().encode(name);
  // PostgreSQL's paths are short (base/16384/2619_fsm); a longer one would need a prefix field.
  if (encoded.length > 100) throw new Error(`a path in the data directory is too long for the archive: ${name}`);
  const put = (text: string, at: number) => bytes.set(new TextEncoder().encode(text), at);
  const octal = (n: number, at: number, width: number) => put(`${n.toString(8).padStart(width - 1, "0")}\0`, at);
  bytes.set(encoded, 0);
  octal(mode & 0o7777, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(Math.floor(mtimeMs / 1000), 136, 12);
  put(type, 156);
  put("ustar\u000000", 257);
  put("        ", 148); // the checksum counts its own field as spaces
  const sum = bytes.reduce((a, b) => a + b, 0);
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  return bytes;
}
