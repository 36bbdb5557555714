import type { ChatService } from "../chat/service.ts";
import { parseSettings, SettingsError, settingsOf } from "../chat/settings.ts";
import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { Chat, Project } from "../db/schema.ts";
import { FileError } from "../files/kinds.ts";
import type { FileService, Upload } from "../files/service.ts";
import type { FileInfo } from "../files/types.ts";
import { MAX_PROJECT_FILES } from "../limits.ts";
import { modelRefusal } from "../teams/access.ts";
import * as filesRepo from "./files-repo.ts";
import * as repo from "./repo.ts";

export const MAX_PROJECT_NAME_LENGTH = 100;
const MAX_MODEL_LENGTH = 200;

/** One line of plain text, as a name or a model id is typed. */
const oneLine = (raw: unknown) => (typeof raw === "string" ? raw.replaceAll("\0", "").replace(/\s+/g, " ").trim() : "");

function projectName(raw: unknown): string {
  const name = oneLine(raw);
  if (!name) throw new SettingsError("Give the project a name.");
  if (name.length > MAX_PROJECT_NAME_LENGTH) {
    throw new SettingsError(`A project's name can be at most ${MAX_PROJECT_NAME_LENGTH} characters long.`);
  }
  return name;
}

const taken = (name: string) =>
  new SettingsError(`You already have a project named “${name}”: choose another name, or open that one.`);

/**
 * A person's projects: chats grouped under a name, with instructions sent before each of its
 * chats' own system prompt (chat/pipeline.ts, withProjectInstructions), and a model and
 * parameters its new chats start from, and files sent with each of its chats (pipeline.ts,
 * withProjectFiles). Every change is pushed to the person's chat lists.
 */
export function createProjectService({
  database,
  chat,
  files,
}: {
  database: Database;
  chat: ChatService;
  files: FileService;
}) {
  const { db } = database;

  /** A project's values from its form; the model is optional (empty: the person's usual one). */
  async function fromForm(
    userId: string,
    form: Record<string, unknown>,
    current?: Project,
  ): Promise<repo.ProjectValues> {
    const name = projectName(form.name);
    const model = oneLine(form.model).slice(0, MAX_MODEL_LENGTH) || null;
    if (model) {
      const refusal = await modelRefusal(db, userId, model);
      if (refusal) throw new SettingsError(refusal);
    }
    const known = model ? (await chat.models()).find((m) => m.id === model) : undefined;
    return { name, model, ...parseSettings(form, model ?? "your usual model", known, current && settingsOf(current)) };
  }

  /** The project's chats' open tabs hear its new count of files (the line under their title). */
  async function filesChanged(userId: string, projectId: string) {
    const [project, held] = await Promise.all([
      repo.getOwnProject(db, userId, projectId),
      repo.projectChats(db, userId, projectId),
    ]);
    if (project) chat.projectChanged(held.map((c) => ({ chat: c, project })));
  }

  const saved = (result: Project | "taken" | undefined, name: string) => {
    if (result === "taken") throw taken(name);
    return result;
  };

  return {
    list: (userId: string) => repo.listProjects(db, userId),

    get: (userId: string, id: unknown) => repo.getOwnProject(db, userId, id),

    /** A project with its chats, newest first, and its files; undefined when it is not the person's. */
    async open(userId: string, id: unknown) {
      const project = await repo.getOwnProject(db, userId, id);
      if (!project) return undefined;
      const [chats, held] = await Promise.all([
        repo.projectChats(db, userId, project.id),
        filesRepo.projectFileList(db, userId, project.id),
      ]);
      return { project, chats, files: held };
    },

    /** A project's files, in order; undefined when it is not the person's. */
    async files(userId: string, id: unknown): Promise<FileInfo[] | undefined> {
      const project = await repo.getOwnProject(db, userId, id);
      return project && filesRepo.projectFileList(db, userId, project.id);
    },

    /**
     * Adds an upload's files to a project, after its others: checked and stored as a message's
     * attachments are (files/service.ts: kinds, sizes, the person's storage), all or none, and no
     * more than MAX_PROJECT_FILES in the project. A refusal throws a FileError with its sentence.
     * Answers the files added and those the project already held; undefined when it is not theirs.
     */
    async addFiles(
      userId: string,
      id: unknown,
      uploads: Upload[],
    ): Promise<{ added: FileInfo[]; already: FileInfo[] } | undefined> {
      const project = await repo.getOwnProject(db, userId, id);
      if (!project) return undefined;
      const tooMany = (has: number) =>
        new FileError(
          `A project can hold at most ${MAX_PROJECT_FILES} files; this one has ${has}, and this upload has ${uploads.length}. Remove some first.`,
          413,
        );
      if (project.files + uploads.length > MAX_PROJECT_FILES) throw tooMany(project.files);
      const stored = await files.store(userId, uploads);
      // Files stored but not linked (refused below) hold nothing: the sweep of unsent files takes them.
      const linked = await filesRepo.linkFiles(
        db,
        userId,
        project.id,
        stored.map((f) => f.id),
        MAX_PROJECT_FILES,
      );
      if ("refused" in linked) {
        if (linked.refused === "no-project") return undefined;
        if (linked.refused === "too-many") throw tooMany(linked.has);
        throw new FileError("A file was deleted while it was being added; nothing was added. Try again.", 422);
      }
      // The same bytes twice in one upload are one file.
      const unique = [...new Map(stored.map((f) => [f.id, f])).values()];
      const named = (ids: string[]) => unique.filter((f) => ids.includes(f.id));
      if (linked.added.length) await filesChanged(userId, project.id);
      return { added: named(linked.added), already: named(linked.already) };
    },

    /**
     * Takes a file out of a project, and deletes it if nothing else holds it (a message, a shared
     * snapshot, another project keep it). False when the project or the file in it is not theirs.
     */
    async removeFile(userId: string, id: unknown, fileId: unknown): Promise<boolean> {
      if (!(await filesRepo.unlinkFile(db, userId, id, fileId))) return false;
      await files.discard(userId, [fileId as string]);
      await filesChanged(userId, id as string);
      return true;
    },

    /** A new project from its form; a bad value throws a SettingsError and saves nothing. */
    async create(userId: string, form: Record<string, unknown>): Promise<Project> {
      const values = await fromForm(userId, form);
      const project = saved(await repo.insertProject(db, userId, values), values.name)!;
      chat.refreshSidebar(userId);
      return project;
    },

    /** Changes a project; undefined when it is not the person's. */
    async update(userId: string, id: unknown, form: Record<string, unknown>): Promise<Project | undefined> {
      const current = await repo.getOwnProject(db, userId, id);
      if (!current) return undefined;
      const values = await fromForm(userId, form, current);
      const project = saved(await repo.updateProject(db, userId, current.id, values), values.name);
      chat.refreshSidebar(userId);
      return project;
    },

    /** How many chats deleting the project would take with it, or undefined when it is not theirs. */
    async chatCount(userId: string, id: unknown): Promise<number | undefined> {
      const project = await repo.getOwnProject(db, userId, id);
      return project && repo.chatCount(db, userId, project.id);
    },

    /**
     * Deletes a project, keeping its chats (out of any project) or deleting them too, as the
     * person chose. Answers how many chats went, or undefined when it is not theirs.
     */
    async remove(userId: string, id: unknown, withChats: boolean): Promise<number | undefined> {
      if (!isId(id)) return undefined;
      const chats = withChats ? await repo.projectChatIds(db, userId, id) : [];
      const held = await filesRepo.projectFileIds(db, userId, id);
      // Each chat goes as its own Delete takes it: an answer being written is stopped first.
      for (const chatId of chats) await chat.remove(userId, chatId);
      const gone = await repo.deleteProject(db, userId, id);
      if (!gone) return undefined;
      // The project's links went with it; its files go too unless something else holds them.
      await files.discard(userId, held);
      chat.refreshSidebar(userId);
      chat.projectChanged(gone.moved.map((c) => ({ chat: c, project: null })));
      return chats.length;
    },

    /** What "Move to…" on a chat offers: the person's projects, the chat's own marked; undefined when not their chat. */
    async moveChoices(userId: string, chatId: unknown) {
      const [found, all] = await Promise.all([chat.getChat(userId, chatId), repo.listProjects(db, userId)]);
      return found && { chatId: found.id, projectId: found.projectId, projects: all };
    },

    /**
     * Moves a person's chat into one of their projects (`to`: its id) or out of any (empty).
     * Undefined when the chat is not theirs, "no-project" when the project is not.
     */
    async move(userId: string, chatId: unknown, to: unknown): Promise<Chat | "no-project" | undefined> {
      const project = to ? await repo.getOwnProject(db, userId, to) : null;
      if (project === undefined) return "no-project";
      const moved = await repo.setChatProject(db, userId, chatId, project?.id ?? null);
      if (!moved) return undefined;
      chat.refreshSidebar(userId);
      chat.projectChanged([{ chat: moved, project }]);
      return moved;
    },
  };
}

export type ProjectService = ReturnType<typeof createProjectService>;
