import { and, eq, inArray, notExists, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { files, messageFiles, type StoredFile, shareFiles, users } from "../db/schema.ts";
import type { FileInfo } from "./types.ts";

/*
 * Every function takes the person's id and matches it in the same statement as the file's: another
 * person's file is not found, exactly like one that never existed.
 */

/** Db or a transaction of it. */
type Tx = Pick<Db, "select" | "insert" | "execute">;

const info = { id: files.id, name: files.name, size: files.size, type: files.type };

/** A new file; its bytes are stored once per person (see files in schema.ts). */
export type NewFile = Pick<StoredFile, "sha256" | "name" | "type" | "size" | "bytes">;

/** A file with its bytes, if it exists and is this person's. */
export async function getOwnFile(db: Db, userId: string, id: unknown): Promise<StoredFile | undefined> {
  if (!isId(id)) return undefined;
  const [file] = await db
    .select()
    .from(files)
    .where(and(eq(files.id, id), eq(files.userId, userId)));
  return file;
}

/** Bytes this person's files take, in all. */
export async function storageUsed(db: Tx, userId: string): Promise<number> {
  const [row] = await db
    .select({ bytes: sql<string>`coalesce(sum(${files.size}), 0)::text` })
    .from(files)
    .where(eq(files.userId, userId));
  return Number(row?.bytes ?? 0);
}

/**
 * Holds this person's row until the transaction ends, so that their uploads are counted against
 * their storage one after another. `no key update` leaves alone what only refers to the person
 * (new sessions, chats): they take a key-share lock, which this does not block.
 */
export async function lockPerson(tx: Tx, userId: string): Promise<void> {
  await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for("no key update");
}

/** This person's files among these hashes, by hash. */
export async function filesByHash(tx: Tx, userId: string, hashes: string[]): Promise<Map<string, FileInfo>> {
  if (!hashes.length) return new Map();
  const rows = await tx
    .select({ ...info, sha256: files.sha256 })
    .from(files)
    .where(and(eq(files.userId, userId), inArray(files.sha256, hashes)));
  return new Map(rows.map(({ sha256, ...file }) => [sha256, file]));
}

/** Stores new files of this person (each hash not theirs yet: see filesByHash, under lockPerson). */
export async function insertFiles(tx: Tx, userId: string, fresh: NewFile[]): Promise<Map<string, FileInfo>> {
  if (!fresh.length) return new Map();
  const rows = await tx
    .insert(files)
    .values(fresh.map((f) => ({ userId, ...f })))
    .returning({ ...info, sha256: files.sha256 });
  return new Map(rows.map(({ sha256, ...file }) => [sha256, file]));
}

/** Deletes these files of this person's that no message and no shared snapshot holds. */
export async function deleteUnheld(db: Db, userId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db
    .delete(files)
    .where(
      and(
        eq(files.userId, userId),
        inArray(files.id, ids),
        notExists(db.select({ id: messageFiles.id }).from(messageFiles).where(eq(messageFiles.fileId, files.id))),
        notExists(db.select({ id: shareFiles.id }).from(shareFiles).where(eq(shareFiles.fileId, files.id))),
      ),
    );
}
