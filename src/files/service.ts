import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { StoredFile } from "../db/schema.ts";
import { fileSize } from "../limits.ts";
import { FileError, fileName, fileType } from "./kinds.ts";
import * as repo from "./repo.ts";
import type { FileInfo } from "./types.ts";

const MB = 1024 * 1024;
const UNSENT_GRACE_MS = 24 * 60 * 60_000;

/** The limits of the settings, in bytes and files. */
export type FileLimits = { fileBytes: number; perMessage: number; perPerson: number };

export function fileLimits(config: Pick<Config, "maxFileMb" | "maxFilesPerMessage" | "storagePerPersonMb">) {
  return {
    fileBytes: config.maxFileMb * MB,
    perMessage: config.maxFilesPerMessage,
    perPerson: config.storagePerPersonMb * MB,
  } satisfies FileLimits;
}

/** A file as the form carried it: its name (as the browser gave it) and its bytes, not read yet. */
export type Upload = { name: string; data: Blob };

const count = (n: number) => n.toLocaleString("en-US");
const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/** A person's uploaded files: checked, stored once per person, served back to them alone. */
export function createFileService({ database, limits }: { database: Database; limits: FileLimits }) {
  const { db } = database;

  /** Refuses a whole upload by what is known before any byte is read: how many files, their names and sizes. */
  function checkUpload(uploads: Upload[]): string[] {
    if (!uploads.length) throw new FileError("Choose a file to upload.", 400);
    if (uploads.length > limits.perMessage) {
      throw new FileError(
        `A message can carry at most ${count(limits.perMessage)} files; this upload has ${count(uploads.length)}.`,
        413,
      );
    }
    return uploads.map((upload) => {
      const name = fileName(upload.name);
      if (upload.data.size === 0) throw new FileError(`“${name}” is empty (0 bytes).`);
      if (upload.data.size > limits.fileBytes) {
        throw new FileError(`“${name}” is larger than ${fileSize(limits.fileBytes)}, the most a file may be.`, 413);
      }
      return name;
    });
  }

  /**
   * Keeps files already checked (name, type, size, hash) as this person's, all or none: bytes they
   * already have are that file again, the rest are stored once each if they fit in the person's
   * storage (a FileError with the sentence otherwise). Answers each file's row, in order, and the
   * ids of the files stored anew.
   */
  function keep(userId: string, checked: repo.NewFile[]): Promise<{ files: FileInfo[]; fresh: string[] }> {
    return db.transaction(async (tx) => {
      await repo.lockPerson(tx, userId);
      const have = await repo.filesByHash(
        tx,
        userId,
        checked.map((f) => f.sha256),
      );
      const fresh = [...new Map(checked.filter((f) => !have.has(f.sha256)).map((f) => [f.sha256, f])).values()];
      const adding = fresh.reduce((sum, f) => sum + f.size, 0);
      if (adding > 0) {
        const used = await repo.storageUsed(tx, userId);
        if (used + adding > limits.perPerson) {
          throw new FileError(
            `Your files may take at most ${fileSize(limits.perPerson)}; you have ${fileSize(used)}, and ${
              fresh.length === 1 ? "this file" : "these files"
            } would add ${fileSize(adding)}.`,
            413,
          );
        }
      }
      const made = await repo.insertFiles(tx, userId, fresh);
      return {
        files: checked.map((f) => (have.get(f.sha256) ?? made.get(f.sha256))!),
        fresh: [...made.values()].map((f) => f.id),
      };
    });
  }

  return {
    limits,

    /**
     * Stores an upload, all of it or nothing: one file refused refuses the upload, with a FileError
     * whose sentence names the file and the limit. The same bytes as a file the person already has
     * (or twice in one upload) are that file again, stored once. Answers each upload's file, in order.
     */
    async store(userId: string, uploads: Upload[]): Promise<FileInfo[]> {
      const names = checkUpload(uploads);
      const checked: repo.NewFile[] = [];
      for (const [i, upload] of uploads.entries()) {
        const bytes = new Uint8Array(await upload.data.arrayBuffer());
        const name = names[i]!;
        checked.push({ name, bytes, size: bytes.length, type: fileType(bytes, name), sha256: sha256(bytes) });
      }
      return (await keep(userId, checked)).files;
    },

    keep,

    /** Deletes these files of this person's that no message and no shared snapshot holds (an import undone). */
    discard: (userId: string, ids: string[]) => repo.deleteUnheld(db, userId, ids),

    /** One of this person's files with its bytes; undefined for anyone else's and for no file. */
    get: (userId: string, id: unknown): Promise<StoredFile | undefined> => repo.getOwnFile(db, userId, id),

    /**
     * Deletes files uploaded over a day ago and never sent (chips removed, tabs closed), or no
     * longer held by anything; a day, so that a message written slowly still finds its files.
     * Then, on PGlite, makes their space reusable. Answers how many were deleted.
     */
    async sweep(now = Date.now()): Promise<number> {
      const deleted = await repo.deleteUnsent(db, new Date(now - UNSENT_GRACE_MS));
      await repo.reclaimSpace(database);
      return deleted;
    },

    /** Bytes this person's files take, in all (for the account page). */
    storageUsed: (userId: string) => repo.storageUsed(db, userId),
  };
}

export type FileService = ReturnType<typeof createFileService>;
