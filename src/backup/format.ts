import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { ConfigError } from "../config.ts";
import { LOCK_FILE } from "../db/client.ts";
import { snapshotPglite } from "./snapshot.ts";

/**
 * A backup file is what the database's own tools make, so it can be read without Parley:
 * the embedded database's is its data directory as a gzip'd tar (`tar xzf` gives a DATA_DIR),
 * Postgres's is pg_dump's custom format (pg_restore reads it). Each is known by its first bytes.
 */
export type BackupKind = "pglite" | "postgres";

/** How `parley backup` reaches the running server (see live.ts); like the lock, no part of the data. */
export const BACKUP_ACCESS_FILE = "parley.backup";
const RUNTIME_FILES = new Set([LOCK_FILE, BACKUP_ACCESS_FILE]);

/** What a file holds, from its first bytes; undefined when it is neither kind of backup. */
export function backupKind(head: Uint8Array): BackupKind | undefined {
  if (head[0] === 0x1f && head[1] === 0x8b) return "pglite";
  if (new TextDecoder().decode(head.subarray(0, 5)) === "PGDMP") return "postgres";
  return undefined;
}

/** A consistent copy of the embedded database's files, as one tar (see snapshot.ts). */
export async function dumpPglite(pglite: PGlite, dataDir: string): Promise<Bytes> {
  const pieces = await snapshotPglite(pglite, dataDir);
  const tar = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const piece of pieces) {
    tar.set(piece, at);
    at += piece.length;
  }
  return tar;
}

export type Bytes = Uint8Array<ArrayBuffer>;

type TarEntry = { name: string; start: number; end: number };

/** The entries of an uncompressed tar (PGlite writes plain ustar: names under 100 bytes, no prefix). */
export function tarEntries(tar: Uint8Array): TarEntry[] {
  const text = (from: number, to: number) => new TextDecoder().decode(tar.subarray(from, to)).replace(/\0[\s\S]*$/, "");
  const entries: TarEntry[] = [];
  let offset = 0;
  while (offset + 512 <= tar.length && tar[offset] !== 0) {
    const size = Number.parseInt(text(offset + 124, offset + 136).trim() || "0", 8);
    if (!Number.isFinite(size)) throw new Error("damaged tar header");
    const prefix = text(offset + 345, offset + 500);
    const name = (prefix ? `${prefix}/` : "") + text(offset, offset + 100);
    const end = offset + 512 + Math.ceil(size / 512) * 512;
    if (end > tar.length) throw new Error("truncated tar");
    entries.push({ name: name.replace(/^\.?\/+/, ""), start: offset, end });
    offset = end;
  }
  return entries;
}

/** The dump as a backup file: the lock and the access file left out (they belong to the running process), gzip'd. */
export function pgliteBackup(tar: Uint8Array): Uint8Array {
  const entries = tarEntries(tar);
  if (!entries.some((e) => e.name === "PG_VERSION")) throw new Error("the dump holds no database (no PG_VERSION)");
  const kept = entries.filter((e) => !RUNTIME_FILES.has(e.name));
  const parts = kept.map((e) => tar.subarray(e.start, e.end));
  return Bun.gzipSync(Buffer.concat([...parts, new Uint8Array(1024)]));
}

/** The tar inside a PGlite backup file, checked to be a data directory; a sentence when it is not. */
export function readPgliteBackup(file: string, bytes: Bytes): Bytes {
  let tar: Bytes;
  try {
    tar = Bun.gunzipSync(bytes);
    if (tarEntries(tar).some((e) => e.name === "PG_VERSION")) return tar;
  } catch {
    // reported below, like any file that is not a data directory
  }
  throw new ConfigError(
    `${file} is a gzip file but not a Parley backup of the embedded database (it is damaged, or holds something else).`,
  );
}

/**
 * Writes the file whole or not at all: into a temporary file beside it, flushed to disk, then
 * renamed over the name. An interrupted backup never leaves a half-written file under that name.
 */
export async function writeAtomically(file: string, write: (temp: string) => Promise<void> | void): Promise<void> {
  const target = resolve(file);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  try {
    await write(temp);
    const fd = openSync(temp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Writes a new file readable by its owner only: a backup holds every chat, the access file a key. */
export function writePrivate(path: string, bytes: Uint8Array): void {
  rmSync(path, { force: true }); // the mode applies only to a file created now
  const fd = openSync(path, "wx", 0o600);
  try {
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at);
  } finally {
    closeSync(fd);
  }
}
