import { and, asc, count, desc, eq, getTableColumns, inArray, isNull, notExists, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { unlessTaken } from "../db/errors.ts";
import { isId } from "../db/ids.ts";
import { type Chat, chats, type Project, projects } from "../db/schema.ts";
import type { ProjectGroup } from "./types.ts";

/*
 * Every function takes the person's id and matches it in the same statement as the project's:
 * another person's project is not found, exactly like one that never existed.
 */

export type ProjectValues = Pick<
  Project,
  "name" | "model" | "systemPrompt" | "temperature" | "maxTokens" | "reasoningEffort" | "pdfEngine"
>;

/** A chat of a project is listed on its page and in its sidebar group unless it is temporary. */
// Archived chats leave their project's group too (the Archive page lists them).
const listedIn = (projectId: string) =>
  and(eq(chats.projectId, projectId), isNull(chats.archivedAt), sql`not ${chats.temporary}`);

/** A person's projects, by name, with how many chats each holds. */
export async function listProjects(db: Db, userId: string): Promise<(Project & { chats: number })[]> {
  const rows = await db
    .select({
      project: projects,
      chats: sql<number>`(select count(*)::int from chats c where c.project_id = projects.id and not c.temporary)`,
    })
    .from(projects)
    .where(eq(projects.userId, userId))
    .orderBy(asc(projects.name), asc(projects.id));
  return rows.map((r) => ({ ...r.project, chats: Number(r.chats) }));
}

/** A project with how many files it holds (its chats' pages say so), if it exists and is this person's. */
export async function getOwnProject(
  db: Db,
  userId: string,
  id: unknown,
): Promise<(Project & { files: number }) | undefined> {
  if (!isId(id)) return undefined;
  const [project] = await db
    .select({
      ...getTableColumns(projects),
      // Named in full: drizzle writes a lone table's columns unqualified, and "id" would be pf's.
      files: sql<number>`(select count(*)::int from project_files pf where pf.project_id = projects.id)`,
    })
    .from(projects)
    .where(and(eq(projects.id, id), eq(projects.userId, userId)));
  return project;
}

/** A new project; "taken" when the person already has one of that name. */
export async function insertProject(db: Db, userId: string, values: ProjectValues): Promise<Project | "taken"> {
  return unlessTaken(async () => {
    const [project] = await db
      .insert(projects)
      .values({ userId, ...values })
      .returning();
    return project!;
  });
}

/** Changes one of this person's projects: undefined when it is not theirs, "taken" when the name is another's. */
export async function updateProject(
  db: Db,
  userId: string,
  id: string,
  values: ProjectValues,
): Promise<Project | "taken" | undefined> {
  return unlessTaken(async () => {
    const [project] = await db
      .update(projects)
      .set({ ...values, updatedAt: new Date() })
      .where(and(eq(projects.id, id), eq(projects.userId, userId)))
      .returning();
    return project;
  });
}

/** A project's chats, most recently active first (temporary ones are not listed). */
export function projectChats(db: Db, userId: string, projectId: string): Promise<Chat[]> {
  return db
    .select()
    .from(chats)
    .where(and(eq(chats.userId, userId), listedIn(projectId)))
    .orderBy(desc(chats.updatedAt), desc(chats.id));
}

/** How many chats a project holds, temporary ones included (deleting the project takes them too). */
export async function chatCount(db: Db, userId: string, projectId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(chats)
    .where(and(eq(chats.userId, userId), eq(chats.projectId, projectId)));
  return Number(row?.n ?? 0);
}

/** The ids of all a project's chats, temporary ones included. */
export async function projectChatIds(db: Db, userId: string, projectId: string): Promise<string[]> {
  const rows = await db
    .select({ id: chats.id })
    .from(chats)
    .where(and(eq(chats.userId, userId), eq(chats.projectId, projectId)));
  return rows.map((r) => r.id);
}

/**
 * Deletes a person's project; the chats still in it are kept, out of any project. Answers those
 * chats as they are now, or undefined when the project is not theirs.
 */
export async function deleteProject(db: Db, userId: string, id: string): Promise<{ moved: Chat[] } | undefined> {
  return db.transaction(async (tx) => {
    // Set free here rather than by the foreign key, to know which chats' pages to tell.
    const moved = await tx
      .update(chats)
      .set({ projectId: null })
      .where(and(eq(chats.userId, userId), eq(chats.projectId, id)))
      .returning();
    const gone = await tx
      .delete(projects)
      .where(and(eq(projects.id, id), eq(projects.userId, userId)))
      .returning({ id: projects.id });
    return gone.length ? { moved } : undefined;
  });
}

/** Puts a person's chat in one of their projects, or out of any (null); undefined when the chat is not theirs. */
export async function setChatProject(
  db: Db,
  userId: string,
  chatId: unknown,
  projectId: string | null,
): Promise<Chat | undefined> {
  if (!isId(chatId)) return undefined;
  const [chat] = await db
    .update(chats)
    .set({ projectId })
    .where(and(eq(chats.id, chatId), eq(chats.userId, userId)))
    .returning();
  return chat;
}

/** A person's projects by name, as the sidebar heads its groups; each group's chats load when it is opened. */
export async function projectGroups(db: Db, userId: string): Promise<ProjectGroup[]> {
  return (await projectGroupsOf(db, [userId]))[0]!;
}

/** projectGroups for many people in one statement (the sidebars pushed together), in the order asked. */
export async function projectGroupsOf(db: Db, userIds: string[]): Promise<ProjectGroup[][]> {
  const rows = await db
    .select({ userId: projects.userId, id: projects.id, name: projects.name })
    .from(projects)
    .where(inArray(projects.userId, userIds))
    .orderBy(asc(projects.name), asc(projects.id));
  const byUser = new Map(userIds.map((id): [string, ProjectGroup[]] => [id, []]));
  for (const { userId, ...group } of rows) byUser.get(userId)?.push(group);
  return userIds.map((id) => byUser.get(id)!);
}

/** Whether the project is this person's. */
export async function ownsProject(db: Db, userId: string, projectId: unknown): Promise<boolean> {
  if (!isId(projectId)) return false;
  const [row] = await db
    .select({ id: projects.id })
    .from(projects)
    .where(and(eq(projects.id, projectId), eq(projects.userId, userId)));
  return row !== undefined;
}

/** Deletes those of the person's projects that hold no chat (a failed import's). */
export async function deleteEmptyProjects(db: Db, userId: string, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await db
    .delete(projects)
    .where(
      and(
        eq(projects.userId, userId),
        inArray(projects.id, ids),
        notExists(db.select({ id: chats.id }).from(chats).where(eq(chats.projectId, projects.id))),
      ),
    );
}
