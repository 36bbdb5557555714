import type { ChatService } from "../chat/service.ts";
import { parseSettings, SettingsError, settingsOf } from "../chat/settings.ts";
import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { Chat, Project } from "../db/schema.ts";
import { modelRefusal } from "../teams/access.ts";
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
 * parameters its new chats start from. Every change is pushed to the person's chat lists.
 */
export function createProjectService({ database, chat }: { database: Database; chat: ChatService }) {
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

  const saved = (result: Project | "taken" | undefined, name: string) => {
    if (result === "taken") throw taken(name);
    return result;
  };

  return {
    list: (userId: string) => repo.listProjects(db, userId),

    get: (userId: string, id: unknown) => repo.getOwnProject(db, userId, id),

    /** A project with its chats, newest first; undefined when it is not the person's. */
    async open(userId: string, id: unknown) {
      const project = await repo.getOwnProject(db, userId, id);
      if (!project) return undefined;
      return { project, chats: await repo.projectChats(db, userId, project.id) };
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
      // Each chat goes as its own Delete takes it: an answer being written is stopped first.
      for (const chatId of chats) await chat.remove(userId, chatId);
      const gone = await repo.deleteProject(db, userId, id);
      if (!gone) return undefined;
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
