import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import {
  type Chat,
  chats,
  files,
  type Message,
  messageFiles,
  messages,
  projectFiles,
  projects,
  type StoredFile,
} from "../db/schema.ts";
import { type ImportedChat, type ImportedMessage, nextTurn } from "./read.ts";

/** An imported chat ready to store: each answer with its HTML, rendered as an answer's end renders it. */
export type ChatToStore = Omit<ImportedChat, "messages"> & {
  messages: (ImportedMessage & { html: string | null })[];
  /** See chats.importHash. */
  importHash?: string;
  /** The person's project it goes into (see service.ts, inProjects). */
  projectId?: string;
};

/** Which of these import hashes this person's chats carry already: chats an earlier import brought. */
export async function importedHashes(db: Db, userId: string, hashes: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  // In slices: a file may hold thousands of chats, and a statement has a bound on its parameters.
  for (let i = 0; i < hashes.length; i += 1000) {
    const rows = await db
      .select({ hash: chats.importHash })
      .from(chats)
      .where(and(eq(chats.userId, userId), inArray(chats.importHash, hashes.slice(i, i + 1000))));
    for (const r of rows) if (r.hash) found.add(r.hash);
  }
  return found;
}

/**
 * A page of a person's chats in the order they were made, after the chat `after` (or from the
 * first). Temporary chats are never exported.
 */
export function ownChatsAfter(db: Db, userId: string, after: string | undefined, limit: number): Promise<Chat[]> {
  const kept = and(eq(chats.userId, userId), eq(chats.temporary, false));
  const where = after ? and(kept, gt(chats.id, after)) : kept;
  return db.select().from(chats).where(where).orderBy(asc(chats.id)).limit(limit);
}

/**
 * The messages of these chats on the branch each shows, by chat, each in reading order: what the
 * person reads. Only the person's and the model's (the schema allows system messages; an export
 * holds only what an import takes back).
 */
export function messagesOf(db: Db, chatIds: string[]): Promise<Message[]> {
  if (!chatIds.length) return Promise.resolve([]);
  return db
    .select()
    .from(messages)
    .where(
      and(inArray(messages.chatId, chatIds), eq(messages.active, true), inArray(messages.role, ["user", "assistant"])),
    )
    .orderBy(asc(messages.chatId), asc(messages.id));
}

/** A file of a message, as an export lists it (no bytes). */
export type ListedFile = Pick<StoredFile, "id" | "name" | "type" | "size" | "sha256">;

/** What an export lists of a file, beside what it belongs to (`owner`). */
const listedColumns = { id: files.id, name: files.name, type: files.type, size: files.size, sha256: files.sha256 };

/** Rows of files with their owner's id, in order, as lists by owner. */
function byOwner(rows: (ListedFile & { owner: string })[]): Map<string, ListedFile[]> {
  const found = new Map<string, ListedFile[]>();
  for (const { owner, ...file } of rows) found.set(owner, [...(found.get(owner) ?? []), file]);
  return found;
}

/**
 * The files attached to the messages of these chats of this person's, by message, each message's
 * in order (no bytes: an export reads them one at a time, with fileBytes).
 */
export async function filesOf(db: Db, userId: string, chatIds: string[]): Promise<Map<string, ListedFile[]>> {
  if (!chatIds.length) return new Map();
  const rows = await db
    .select({ owner: messageFiles.messageId, ...listedColumns })
    .from(messageFiles)
    .innerJoin(messages, eq(messages.id, messageFiles.messageId))
    .innerJoin(files, eq(files.id, messageFiles.fileId))
    .where(and(inArray(messages.chatId, chatIds), eq(files.userId, userId)))
    .orderBy(asc(messageFiles.messageId), asc(messageFiles.position));
  return byOwner(rows);
}

/** The files of these projects of this person's, by project, each project's in order (no bytes). */
export async function projectFilesOf(db: Db, userId: string, projectIds: string[]): Promise<Map<string, ListedFile[]>> {
  if (!projectIds.length) return new Map();
  const rows = await db
    .select({ owner: projectFiles.projectId, ...listedColumns })
    .from(projectFiles)
    .innerJoin(projects, eq(projects.id, projectFiles.projectId))
    .innerJoin(files, eq(files.id, projectFiles.fileId))
    .where(and(inArray(projectFiles.projectId, projectIds), eq(projects.userId, userId), eq(files.userId, userId)))
    .orderBy(asc(projectFiles.projectId), asc(projectFiles.position));
  return byOwner(rows);
}

/** The bytes of one of this person's files; undefined when it is no longer there. */
export async function fileBytes(db: Db, userId: string, id: string): Promise<Uint8Array | undefined> {
  const [row] = await db
    .select({ bytes: files.bytes })
    .from(files)
    .where(and(eq(files.id, id), eq(files.userId, userId)));
  return row?.bytes;
}

/**
 * Rows per statement: about 256 KB of JSON. The embedded database runs each statement in this
 * thread, holding up everything else (timers, sockets) until it ends: small statements, with a
 * turn of the event loop between them, let streams go on during a long import (on PGlite a
 * statement of 1 MB of answers held it 0.2 to 0.7 s, the search index filled too; one of
 * 256 KB, at most 0.1 to 0.2 s).
 */
const BATCH_CHARS = 64 * 1024;

/**
 * The chats to store in one transaction: whole chats, about BATCH_CHARS of rows together (a
 * larger chat alone). The embedded database has one connection, and a transaction holds it from
 * its first statement to its commit: every page, progress save and sign-in waits meanwhile (one
 * transaction for a 25 MB import kept them waiting 5 to 12 s). Short transactions let them in
 * between.
 */
export function* chatGroups(chats: ImportedChat[]): Generator<ImportedChat[]> {
  let group: ImportedChat[] = [];
  let size = 0;
  for (const chat of chats) {
    // About what the rows will hold: the text, an answer's HTML (about as long again), the other columns.
    const chars = chat.messages.reduce(
      (n, m) => n + 400 + (m.content.length + (m.reasoning?.length ?? 0)) * (m.role === "assistant" ? 2 : 1),
      400,
    );
    if (group.length && size + chars > BATCH_CHARS) {
      yield group;
      group = [];
      size = 0;
    }
    group.push(chat);
    size += chars;
  }
  if (group.length) yield group;
}

/**
 * Stores imported chats as this person's, in one transaction: each chat whole, with all its
 * messages, or none of them. Every id is made here, never taken from the file: UUIDv7s made one
 * after another, so a chat's messages sort in reading order (and chats stored by later calls
 * after these). Each chat is one branch, each message the child of the one before it. Returns
 * the chats' ids.
 */
export async function insertChats(
  db: Db,
  userId: string,
  imported: ChatToStore[],
  fileIds: Map<string, string> = new Map(),
): Promise<string[]> {
  const chatRows = imported.map((c) => ({
    id: Bun.randomUUIDv7(),
    title: c.title,
    model: c.model,
    system_prompt: c.settings.systemPrompt,
    temperature: c.settings.temperature,
    max_tokens: c.settings.maxTokens,
    reasoning_effort: c.settings.reasoningEffort,
    pdf_engine: c.settings.pdfEngine,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
    import_hash: c.importHash ?? null,
    project_id: c.projectId ?? null,
    pinned_at: c.pinnedAt?.toISOString() ?? null,
    archived_at: c.archivedAt?.toISOString() ?? null,
  }));
  const messageRows = imported.flatMap((c, i) => {
    // One line, each message following the one before it: the branch the chat shows.
    let parent: string | null = null;
    return c.messages.map((m) => {
      const id = Bun.randomUUIDv7();
      const row = {
        id,
        chat_id: chatRows[i]!.id,
        parent_id: parent,
        role: m.role,
        content: m.content,
        html: m.html,
        reasoning: m.reasoning,
        status: m.status,
        model: m.model,
        error: m.error,
        finish_reason: m.finishReason,
        prompt_tokens: m.promptTokens,
        completion_tokens: m.completionTokens,
        reasoning_tokens: m.reasoningTokens,
        cached_tokens: m.cachedTokens,
        cost: m.cost,
        created_at: m.createdAt.toISOString(),
        finished_at: m.finishedAt?.toISOString() ?? null,
      };
      parent = id;
      return row;
    });
  });
  // Each message's files, in order, by their hashes: stored as this person's before the chats.
  const fileRows = imported
    .flatMap((c) => c.messages)
    .flatMap((m, i) =>
      (m.attachments ?? []).map((f, position) => ({
        id: Bun.randomUUIDv7(),
        message_id: messageRows[i]!.id,
        file_id: fileIds.get(f.sha256)!,
        position,
      })),
    );
  await db.transaction(async (tx) => {
    // One JSON parameter per statement: both drivers pass it alike, and a thousand rows cost one round trip.
    for (const batch of batches(chatRows)) {
      await tx.execute(sql`
        insert into chats (id, user_id, title, model, system_prompt, temperature, max_tokens, reasoning_effort,
          pdf_engine, created_at, updated_at, import_hash, project_id, pinned_at, archived_at)
        select v.id, ${userId}::uuid, v.title, v.model, v.system_prompt, v.temperature, v.max_tokens,
          v.reasoning_effort, v.pdf_engine, v.created_at, v.updated_at, v.import_hash, v.project_id,
          v.pinned_at, v.archived_at
        from json_to_recordset(${batch}::json)
          as v(id uuid, title text, model text, system_prompt text, temperature float8, max_tokens int,
               reasoning_effort text, pdf_engine text, created_at timestamptz, updated_at timestamptz,
               import_hash text, project_id uuid, pinned_at timestamptz, archived_at timestamptz)`);
    }
    for (const batch of batches(messageRows)) {
      await tx.execute(sql`
        insert into messages (id, chat_id, parent_id, role, content, html, reasoning, status, model, error,
          finish_reason, prompt_tokens, completion_tokens, reasoning_tokens, cached_tokens, cost, created_at, finished_at)
        select v.id, v.chat_id, v.parent_id, v.role, v.content, v.html, v.reasoning, v.status, v.model, v.error,
          v.finish_reason, v.prompt_tokens, v.completion_tokens, v.reasoning_tokens, v.cached_tokens, v.cost,
          v.created_at, v.finished_at
        from json_to_recordset(${batch}::json)
          as v(id uuid, chat_id uuid, parent_id uuid, role message_role, content text, html text, reasoning text,
               status message_status, model text, error text, finish_reason text, prompt_tokens int,
               completion_tokens int, reasoning_tokens int, cached_tokens int, cost numeric,
               created_at timestamptz, finished_at timestamptz)`);
      // Within a chat too large for one statement: the database is held, but timers and sockets run.
      await nextTurn();
    }
    for (const batch of batches(fileRows)) {
      await tx.execute(sql`
        insert into message_files (id, message_id, file_id, position)
        select v.id, v.message_id, v.file_id, v.position
        from json_to_recordset(${batch}::json) as v(id uuid, message_id uuid, file_id uuid, position int)`);
    }
  });
  return chatRows.map((c) => c.id);
}

/** Deletes these chats of this person's (their messages go with them), a thousand per statement. */
export async function deleteChats(db: Db, userId: string, ids: string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    await db.delete(chats).where(and(eq(chats.userId, userId), inArray(chats.id, ids.slice(i, i + 1000))));
  }
}

/** Rows as JSON arrays of at most about BATCH_CHARS characters each. */
function* batches(rows: object[]): Generator<string> {
  let batch: string[] = [];
  let size = 0;
  for (const row of rows) {
    const json = JSON.stringify(row);
    if (batch.length && size + json.length > BATCH_CHARS) {
      yield `[${batch.join(",")}]`;
      batch = [];
      size = 0;
    }
    batch.push(json);
    size += json.length + 1;
  }
  if (batch.length) yield `[${batch.join(",")}]`;
}
