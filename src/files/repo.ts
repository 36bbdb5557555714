import { and, eq, inArray, lt, notExists, type SQL, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { files, messageFiles, projectFiles, type StoredFile, shareFiles, users } from "../db/schema.ts";
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

/**
 * The most bytes of a file one statement carries. postgres.js sends a bytea as hex text, made and
 * written to the socket in one go on the server's thread: inserting a 20 MB file held that thread
 * for ~0.8 s, and every answer streaming meanwhile stalled (bench/files-load.ts). In parts of this
 * size each statement holds it for a few milliseconds, and the answers' frames go out in between.
 */
export const PART_BYTES = 512 * 1024;

/**
 * Stores new files of this person (each hash not theirs yet: see filesByHash, under lockPerson),
 * one statement per file, a large one in parts (see PART_BYTES).
 */
export async function insertFiles(tx: Tx, userId: string, fresh: NewFile[]): Promise<Map<string, FileInfo>> {
  const made = new Map<string, FileInfo>();
  for (const f of fresh) {
    const file: FileInfo = { id: Bun.randomUUIDv7(), name: f.name, size: f.size, type: f.type };
    if (f.bytes.length <= PART_BYTES)
      await tx.insert(files).values({ ...file, userId, sha256: f.sha256, bytes: f.bytes });
    else await insertInParts(tx, { ...f, ...file, userId });
    made.set(f.sha256, file);
  }
  return made;
}

/**
 * One file's row, its bytes sent in parts to a table of this transaction's own and joined by
 * Postgres: the row is written once, whole (appending to it part by part would rewrite it each time).
 */
async function insertInParts(tx: Tx, f: NewFile & FileInfo & { userId: string }): Promise<void> {
  await tx.execute(sql`create temporary table file_parts (n integer primary key, part bytea not null) on commit drop`);
  for (let n = 0; n * PART_BYTES < f.bytes.length; n++) {
    const part = f.bytes.subarray(n * PART_BYTES, (n + 1) * PART_BYTES);
    const bytes = Buffer.from(part.buffer, part.byteOffset, part.byteLength);
    await tx.execute(sql`insert into file_parts (n, part) values (${n}, ${bytes}::bytea)`);
  }
  await tx.execute(sql`
    insert into ${files} (id, user_id, sha256, name, type, size, bytes)
    select ${f.id}, ${f.userId}, ${f.sha256}, ${f.name}, ${f.type}, ${f.size}, string_agg(part, ''::bytea order by n)
    from file_parts`);
  await tx.execute(sql`drop table file_parts`);
}

const unheld = (db: Pick<Db, "select">) =>
  and(
    notExists(db.select({ id: messageFiles.id }).from(messageFiles).where(eq(messageFiles.fileId, files.id))),
    notExists(db.select({ id: shareFiles.id }).from(shareFiles).where(eq(shareFiles.fileId, files.id))),
    notExists(db.select({ id: projectFiles.id }).from(projectFiles).where(eq(projectFiles.fileId, files.id))),
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
