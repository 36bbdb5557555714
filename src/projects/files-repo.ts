import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { files, projectFiles, projects } from "../db/schema.ts";
import type { FileInfo } from "../files/types.ts";

/*
 * A project's files: the links between a project and the person's files (src/files/ stores and
 * serves them). Every function matches the person in the same statement as the project, and the
 * file's owner too: a project holds only its own person's files, and another person's project
 * has none.
 */

const info = { id: files.id, name: files.name, size: files.size, type: files.type };

/** A project's file with its bytes, as a request to the model needs it. */
export type ProjectFile = FileInfo & { bytes: Uint8Array };

const owned = (userId: string, projectId: string) =>
  and(eq(projectFiles.projectId, projectId), eq(projects.userId, userId), eq(files.userId, userId));

function linked(db: Db, userId: string, projectId: string, bytes: boolean) {
  return db
    .select({ ...info, ...(bytes ? { bytes: files.bytes } : {}) })
    .from(projectFiles)
    .innerJoin(projects, eq(projects.id, projectFiles.projectId))
    .innerJoin(files, eq(files.id, projectFiles.fileId))
    .where(owned(userId, projectId))
    .orderBy(asc(projectFiles.position), asc(projectFiles.id));
}

/** A person's project's files in order (no bytes): what its page lists. None for anyone else's project. */
export async function projectFileList(db: Db, userId: string, projectId: string): Promise<FileInfo[]> {
  if (!isId(projectId)) return [];
  return linked(db, userId, projectId, false);
}

/** The same with their bytes: what every request of the project's chats sends. */
export async function projectFilesFor(db: Db, userId: string, projectId: string): Promise<ProjectFile[]> {
  if (!isId(projectId)) return [];
  return (await linked(db, userId, projectId, true)) as ProjectFile[];
}

/** How many files a project holds. */
export async function projectFileCount(db: Pick<Db, "select">, projectId: string): Promise<number> {
  const [row] = await db.select({ n: count() }).from(projectFiles).where(eq(projectFiles.projectId, projectId));
  return Number(row?.n ?? 0);
}

/** What linking files to a project came to. */
export type Linked =
  | { added: string[]; already: string[] }
  | { refused: "no-project" | "gone" }
  | { refused: "too-many"; has: number };

/**
 * Adds this person's files to their project, after its others, in order; a file the project
 * already holds stays where it is. All or none: refused when the project is not theirs, when a
 * file is no longer theirs (deleted since it was stored), or when the project would hold more
 * than `most`. The project's row is locked until the end, so two uploads are counted one after
 * the other; the files are locked (key share) so the deletion of unheld files skips them rather
 * than deleting them from under the new links (see deleteUnheld in files/repo.ts).
 */
export function linkFiles(db: Db, userId: string, projectId: string, fileIds: string[], most: number): Promise<Linked> {
  return db.transaction(async (tx): Promise<Linked> => {
    const [project] = await tx
      .select({ id: projects.id })
      .from(projects)
      .where(and(eq(projects.id, projectId), eq(projects.userId, userId)))
      .for("no key update");
    if (!project) return { refused: "no-project" };
    const ids = [...new Set(fileIds)];
    const locked = await tx
      .select({ id: files.id })
      .from(files)
      .where(and(eq(files.userId, userId), inArray(files.id, ids)))
      .for("key share");
    if (locked.length < ids.length) return { refused: "gone" };
    const held = await tx
      .select({ fileId: projectFiles.fileId, position: projectFiles.position })
      .from(projectFiles)
      .where(eq(projectFiles.projectId, projectId));
    const already = ids.filter((id) => held.some((h) => h.fileId === id));
    const added = ids.filter((id) => !already.includes(id));
    if (held.length + added.length > most) return { refused: "too-many", has: held.length };
    if (added.length) {
      const first = Math.max(-1, ...held.map((h) => h.position)) + 1;
      await tx.insert(projectFiles).values(added.map((fileId, i) => ({ projectId, fileId, position: first + i })));
    }
    return { added, already };
  });
}

/** Takes a file out of this person's project (the file itself stays); false when there was no such link of theirs. */
export async function unlinkFile(db: Db, userId: string, projectId: unknown, fileId: unknown): Promise<boolean> {
  if (!isId(projectId) || !isId(fileId)) return false;
  const gone = await db
    .delete(projectFiles)
    .where(
      and(
        eq(projectFiles.projectId, projectId),
        eq(projectFiles.fileId, fileId),
        inArray(
          projectFiles.projectId,
          db
            .select({ id: projects.id })
            .from(projects)
            .where(and(eq(projects.id, projectId), eq(projects.userId, userId))),
        ),
      ),
    )
    .returning({ id: projectFiles.id });
  return gone.length > 0;
}

/** The ids of a person's project's files (to free those nothing else holds once the project is gone). */
export async function projectFileIds(db: Db, userId: string, projectId: string): Promise<string[]> {
  return (await projectFileList(db, userId, projectId)).map((f) => f.id);
}
