import { and, eq, inArray, lt, notExists, type SQL, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client.ts";
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

const unheld = (db: Pick<Db, "select">) =>
  and(
    notExists(db.select({ id: messageFiles.id }).from(messageFiles).where(eq(messageFiles.fileId, files.id))),
    notExists(db.select({ id: shareFiles.id }).from(shareFiles).where(eq(shareFiles.fileId, files.id))),
  );

/**
 * Deletes the files `which` picks that no message and no shared snapshot holds; answers how many.
 * Two statements: the files are locked first, skipping any a send is attaching right now (it holds
 * them until it commits: see lockOwnFiles), then checked and deleted under a fresh snapshot, which
 * sees every attachment made before the lock. In one statement, an attachment committed after the
 * statement began but before its lock would go unseen, and the file deleted from under it.
 */
async function deleteIfUnheld(db: Db, which: SQL | undefined, most?: number): Promise<number> {
  return db.transaction(async (tx) => {
    const picked = tx.select({ id: files.id }).from(files).where(which);
    const locked = await (most === undefined ? picked : picked.limit(most)).for("update", { skipLocked: true });
    if (!locked.length) return 0;
    const ids = locked.map((f) => f.id);
    const deleted = await tx
      .delete(files)
      .where(and(inArray(files.id, ids), unheld(tx)))
      .returning({ id: files.id });
    return deleted.length;
  });
}

/** Deletes these files of this person's that no message and no shared snapshot holds. */
export async function deleteUnheld(db: Db, userId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await deleteIfUnheld(db, and(eq(files.userId, userId), inArray(files.id, ids)));
}

/**
 * Deletes files uploaded before `before` that were never sent (nor are any longer: a message
 * deleted with its chat while the file was being attached elsewhere), everyone's, a batch at a
 * time so that PGlite, which runs one statement at a time, is never held long. Answers how many.
 */
export async function deleteUnsent(db: Db, before: Date, batch = 200): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteIfUnheld(db, and(lt(files.createdAt, before), unheld(db)), batch);
    total += n;
    if (n < batch) return total;
  }
}

/**
 * PGlite has no autovacuum: deleted files' bytes would keep their pages until a VACUUM makes them
 * reusable (it does not shrink the data directory; the next uploads fill the space).
 */
export async function reclaimSpace(database: Database): Promise<void> {
  if (database.driver === "pglite") await database.pglite!.exec("vacuum files");
}
