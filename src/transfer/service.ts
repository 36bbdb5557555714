import { getOwnChat } from "../chat/repos/chats.ts";
import type { ChatService } from "../chat/service.ts";
import type { Database } from "../db/client.ts";
import type { Project, User } from "../db/schema.ts";
import { FileError } from "../files/kinds.ts";
import type { NewFile } from "../files/repo.ts";
import type { FileService } from "../files/service.ts";
import { MAX_IMPORT_BYTES, MAX_PROJECT_FILES } from "../limits.ts";
import { linkFiles } from "../projects/files-repo.ts";
import { deleteEmptyProjects, getOwnProject, insertProject, listProjects } from "../projects/repo.ts";
import type { FileToExport } from "./attachments.ts";
import { looksLikeChatGpt, readChatGpt } from "./chatgpt.ts";
import { looksLikeParley, readParley, readParleyProjectFiles } from "./parley-format.ts";
import { type ChatToExport, exportedChat, type ProjectToExport, parleyDocument } from "./parley-writer.ts";
import { chatHash, count, ImportError, type ImportedChat, nextTurn, tooLarge } from "./read.ts";
import { type Renderer, startRenderer } from "./renderer.ts";
import * as repo from "./repo.ts";
import { chatMarkdown } from "./to-markdown.ts";

/** Chats read per query while exporting all of them. */
const EXPORT_PAGE = 100;

/** `skipped`: conversations with no text message; `alreadyHere`: chats an earlier import brought. */
export type ImportSummary = { chats: number; messages: number; files: number; skipped: number; alreadyHere: number };

export type TransferServiceDeps = {
  database: Database;
  chat: Pick<ChatService, "refreshSidebar">;
  files: Pick<FileService, "keep" | "discard" | "limits">;
  defaultModel: string;
};

/** Export of one chat or all of a person's, and import of Parley's and ChatGPT's files. */
export function createTransferService({ database, chat, files, defaultModel }: TransferServiceDeps) {
  const { db } = database;
  // A file is read and parsed whole in memory (up to MAX_IMPORT_BYTES, and several times that
  // once parsed): one import at a time, its place taken before its upload is read, keeps the
  // process's memory bounded (20 uploads of 45 MB read at once took it to 1.5 GB).
  let importing = false;

  /**
   * A chat of this person's with its messages and their files; undefined for another's or an
   * unknown one alike, and for a temporary one (never exported).
   */
  async function ownChat(userId: string, chatId: string) {
    const found = await getOwnChat(db, userId, chatId);
    if (!found || found.temporary) return undefined;
    const [messages, listed] = await Promise.all([
      repo.messagesOf(db, [found.id]),
      repo.filesOf(db, userId, [found.id]),
    ]);
    const project = found.projectId ? await getOwnProject(db, userId, found.projectId) : undefined;
    return { chat: found, messages, files: listed, project };
  }

  /** The files of these messages as the writer takes them: each file's bytes read when it is written. */
  function toExport(userId: string, listed: Map<string, repo.ListedFile[]>): Map<string, FileToExport[]> {
    const bytes = async (id: string, name: string) => {
      const found = await repo.fileBytes(db, userId, id);
      // The export is written as it is read: a file deleted meanwhile ends it, unfinished.
      if (!found) throw new Error(`the file “${name}” was deleted while the export was written`);
      return found;
    };
    return new Map(
      [...listed].map(([messageId, list]) => [
        messageId,
        list.map(({ id, ...file }) => ({ ...file, bytes: () => bytes(id, file.name) })),
      ]),
    );
  }

  /** The files of these projects of the person's, as the file holds them after the chats. */
  async function projectsToExport(userId: string, projects: Project[]): Promise<ProjectToExport[]> {
    const listed = await repo.projectFilesOf(
      db,
      userId,
      projects.map((p) => p.id),
    );
    const files = toExport(userId, listed);
    return projects.map((p) => ({ name: p.name, files: files.get(p.id) ?? [] }));
  }

  /**
   * The person's chats in the order they were made, with their messages, a page of chats at a
   * time; `inProjects` gathers the projects they are in, for their files after them.
   */
  async function* allChats(userId: string, inProjects: Map<string, Project>): AsyncGenerator<ChatToExport> {
    const projects = new Map((await listProjects(db, userId)).map((p) => [p.id, p]));
    let after: string | undefined;
    for (;;) {
      const page = await repo.ownChatsAfter(db, userId, after, EXPORT_PAGE);
      if (!page.length) return;
      const ids = page.map((c) => c.id);
      const byChat = Map.groupBy(await repo.messagesOf(db, ids), (m) => m.chatId);
      const attached = toExport(userId, await repo.filesOf(db, userId, ids));
      for (const c of page) {
        const project = c.projectId ? projects.get(c.projectId) : undefined;
        if (project) inProjects.set(project.id, project);
        yield exportedChat(c, byChat.get(c.id) ?? [], attached, project);
      }
      after = page.at(-1)!.id;
    }
  }

  /**
   * Keeps the files of the chats read (each distinct file once) as this person's, before any chat
   * is stored: over their storage limit, the import is refused here, with nothing stored. Answers
   * each file's id by its hash, and the ids of the files stored anew.
   */
  async function keepFiles(userId: string, chats: ImportedChat[], extra: NewFile[]) {
    const byHash = new Map<string, NewFile>();
    for (const c of chats) for (const m of c.messages) for (const f of m.attachments ?? []) byHash.set(f.sha256, f);
    for (const f of extra) byHash.set(f.sha256, f);
    if (!byHash.size) return { ids: new Map<string, string>(), fresh: [] };
    try {
      const kept = await files.keep(userId, [...byHash.values()]);
      return { ids: new Map([...byHash.keys()].map((hash, i) => [hash, kept.files[i]!.id])), fresh: kept.fresh };
    } catch (err) {
      if (err instanceof FileError) throw new ImportError(err.message, err.status);
      throw err;
    }
  }

  /**
   * Stores a file's chats a group at a time, each group in a transaction of its own, so that on
   * the embedded database other statements (pages, progress saves) get its one connection between
   * groups. Each chat is stored whole or not at all. Their files are kept first, all in one
   * transaction (or the import is refused for the person's storage). The file was checked whole
   * before, so only the database can fail after that: then the chats already stored are deleted
   * again, and the files new to the person too, and the import stores nothing. Should the process
   * die part-way, the chats stored until then stay, each whole, and the files kept (those of chats
   * not stored are held by nothing, until whatever frees such files runs). Answers are rendered on
   * a worker thread, a group ahead of the one being stored. `extra`: files to keep besides the
   * chats' (their projects'). Answers each file's id by its hash.
   */
  async function store(
    userId: string,
    chats: (ImportedChat & { importHash: string })[],
    extra: NewFile[],
  ): Promise<Map<string, string>> {
    const kept = await keepFiles(userId, chats, extra);
    const renderer = startRenderer();
    const stored: string[] = [];
    const groups = repo.chatGroups(chats);
    const renderNext = () => {
      const { value, done } = groups.next();
      return done ? undefined : withHtml(renderer, value);
    };
    let next = renderNext();
    try {
      while (next) {
        const group = await next;
        next = renderNext();
        stored.push(...(await repo.insertChats(db, userId, group, kept.ids)));
        await nextTurn();
      }
    } catch (err) {
      next?.catch(() => {}); // the group rendered ahead, never stored
      // A database that failed may fail again: what would stay then is whole chats.
      await repo.deleteChats(db, userId, stored).catch(() => {});
      await files.discard(userId, kept.fresh).catch(() => {});
      throw err;
    } finally {
      renderer.close();
    }
    return kept.ids;
  }

  /**
   * Each chat with the id of its project: the person's project of that name, or one made now from
   * what the file says of it (an existing project is used as it is, never changed by an import).
   * `made`: the projects made, which an import that then fails deletes again.
   */
  async function inProjects<T extends ImportedChat>(
    userId: string,
    chats: T[],
  ): Promise<{ chats: (T & { projectId?: string })[]; made: { id: string; name: string }[] }> {
    const named = new Set(chats.flatMap((c) => (c.project ? [c.project.name] : [])));
    if (!named.size) return { chats, made: [] };
    const ids = new Map((await listProjects(db, userId)).map((p) => [p.name, p.id]));
    const made: { id: string; name: string }[] = [];
    for (const c of chats) {
      if (!c.project || ids.has(c.project.name)) continue;
      const { name, model, settings } = c.project;
      const inserted = await insertProject(db, userId, { name, model, ...settings });
      if (inserted !== "taken") made.push({ id: inserted.id, name });
      // Made meanwhile by the person (in another tab): theirs is used.
      const id = inserted === "taken" ? (await listProjects(db, userId)).find((p) => p.name === name)?.id : inserted.id;
      if (id) ids.set(name, id);
    }
    return { chats: chats.map((c) => (c.project ? { ...c, projectId: ids.get(c.project.name) } : c)), made };
  }

  /**
   * The chats no earlier import of this person's brought, each with its hash: importing the same
   * file again brings nothing new. Chats deleted since are brought back; two alike in one file
   * are both brought.
   */
  async function notYetImported(userId: string, chats: ImportedChat[]) {
    const hashed = chats.map((c) => ({ ...c, importHash: chatHash(c) }));
    const here = await repo.importedHashes(
      db,
      userId,
      hashed.map((c) => c.importHash),
    );
    return hashed.filter((c) => !here.has(c.importHash));
  }

  return {
    /** One chat as Markdown, its files linked under `filesUrl` (/files on this server, as the person reaches it). */
    async markdown(userId: string, chatId: string, filesUrl: string) {
      const found = await ownChat(userId, chatId);
      return found && { chat: found.chat, text: chatMarkdown(found.chat, found.messages, found.files, filesUrl) };
    },

    /** One chat as a Parley file, written as it is read. */
    async json(userId: string, chatId: string) {
      const found = await ownChat(userId, chatId);
      if (!found) return undefined;
      const chat = exportedChat(found.chat, found.messages, toExport(userId, found.files), found.project);
      const project = found.project;
      const pieces = parleyDocument([chat], new Date(), () =>
        project ? projectsToExport(userId, [project]) : Promise.resolve([]),
      );
      return { chat: found.chat, pieces };
    },

    /** All of the person's chats as one Parley file, written as it is read. */
    all(userId: string): AsyncGenerator<string> {
      const inProjects = new Map<string, Project>();
      return parleyDocument(allChats(userId, inProjects), new Date(), () =>
        projectsToExport(userId, [...inProjects.values()]),
      );
    },

    /**
     * Reads a Parley export or ChatGPT's conversations.json (the upload, read only once this import
     * has its place) and stores its chats as this person's. Throws ImportError, with the sentence
     * to show, on any problem with the file; then nothing is stored.
     */
    async importFile(user: User, upload: () => Promise<Blob>): Promise<ImportSummary> {
      if (importing) throw new ImportError("Another import is being read; try again in a moment.", 503);
      importing = true;
      try {
        const file = await upload();
        if (file.size > MAX_IMPORT_BYTES) throw tooLarge(file.size);
        if (file.size === 0) throw new ImportError("The file is empty.");
        const { chats, skipped, projectFiles } = await read(
          await parse(file),
          user.model ?? defaultModel,
          files.limits,
        );
        if (!chats.length) {
          throw new ImportError(
            skipped
              ? `None of the file's ${count(skipped)} conversations has a message with text.`
              : "The file holds no chats.",
          );
        }
        const fresh = await notYetImported(user.id, chats);
        const alreadyHere = chats.length - fresh.length;
        if (!fresh.length) return { chats: 0, messages: 0, files: 0, skipped, alreadyHere };
        const placed = await inProjects(user.id, fresh);
        // A project made by this import gets the file's files for it (an existing one is left as it is).
        const withFiles = placed.made.map((p) => ({ ...p, files: projectFiles.get(p.name) ?? [] }));
        const ids = await store(
          user.id,
          placed.chats,
          withFiles.flatMap((p) => p.files),
        ).catch(async (err) => {
          // Nothing was imported: nor are the projects made for it kept (unless a chat went in since).
          await deleteEmptyProjects(
            db,
            user.id,
            placed.made.map((p) => p.id),
          ).catch(() => {});
          throw err;
        });
        for (const p of withFiles) {
          if (!p.files.length) continue;
          const fileIds = p.files.map((f) => ids.get(f.sha256)!);
          await linkFiles(db, user.id, p.id, fileIds, MAX_PROJECT_FILES);
        }
        const stored = ids.size;
        chat.refreshSidebar(user.id);
        const messages = fresh.reduce((n, c) => n + c.messages.length, 0);
        return { chats: fresh.length, messages, files: stored, skipped, alreadyHere };
      } finally {
        importing = false;
      }
    },
  };
}

export type TransferService = ReturnType<typeof createTransferService>;

/**
 * The chats with each answer's HTML, rendered once as an answer's end renders it, so an imported
 * chat opens as fast as any (rendering 50 answers on every opening doubled its time).
 */
async function withHtml(renderer: Renderer, chats: ImportedChat[]): Promise<repo.ChatToStore[]> {
  const answers = chats.flatMap((c) => c.messages.filter((m) => m.role === "assistant").map((m) => m.content));
  const html = await renderer.render(answers);
  let next = 0;
  return chats.map((c) => ({
    ...c,
    messages: c.messages.map((m) => ({ ...m, html: m.role === "assistant" ? html[next++]! : null })),
  }));
}

/**
 * The file's JSON. Decoding its text, parsing it and checking what it holds each hold the server's
 * thread (for a file with MBs of attachments, each 20-90 ms on a busy machine): a turn of the event
 * loop after each, so that streams' frames go out between them rather than after all of them.
 */
async function parse(file: Blob): Promise<unknown> {
  const read = await file.text();
  await nextTurn();
  // A byte order mark, which some editors write, is not JSON.
  const text = read.charCodeAt(0) === 0xfeff ? read.slice(1) : read;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new ImportError("The file is not valid JSON; it may be cut short or not an export at all.");
  }
  await nextTurn();
  return doc;
}

/** The chats in a parsed file, whichever of the two formats it is. */
async function read(
  doc: unknown,
  model: string,
  limits: FileService["limits"],
): Promise<{ chats: ImportedChat[]; skipped: number; projectFiles: Map<string, NewFile[]> }> {
  if (looksLikeParley(doc)) {
    const chats = await readParley(doc, model, limits);
    return { chats, skipped: 0, projectFiles: await readParleyProjectFiles(doc, limits) };
  }
  if (looksLikeChatGpt(doc)) return { ...(await readChatGpt(doc, model)), projectFiles: new Map() };
  throw new ImportError("The file is neither a Parley export nor ChatGPT's conversations.json.");
}
