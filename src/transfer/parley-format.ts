import { t } from "elysia";
import { type ChatSettings, FIELDS, parseSettings, SettingsError } from "../chat/settings.ts";
import { fileTypes, messageRole, messageStatus, pdfEngines, reasoningEfforts } from "../db/schema.ts";
import type { NewFile } from "../files/repo.ts";
import type { FileLimits } from "../files/service.ts";
import { MAX_PROJECT_FILES } from "../limits.ts";
import { MAX_PROJECT_NAME_LENGTH } from "../projects/service.ts";
import { readAttachments } from "./attachments.ts";
import {
  boundedMessage,
  chatLabel,
  type Fields,
  ImportError,
  type ImportedChat,
  type ImportedMessage,
  type ImportedProject,
  isObject,
  MAX_ANSWER_LENGTH,
  MAX_ERROR_LENGTH,
  MAX_FINISH_REASON_LENGTH,
  MAX_MODEL_LENGTH,
  MAX_TITLE_LENGTH,
  own,
  pacer,
  quoted,
  reader,
  refuseTooManyChats,
  tally,
} from "./read.ts";

/*
 * Parley's export format, version 2 (docs/export-format.md shows an example):
 *
 * { "format": "parley-chats", "version": 2, "exportedAt": ISO time,
 *   "chats": [ { "title", "model", "systemPrompt", "temperature", "maxTokens", "reasoningEffort", "pdfEngine",
 *                "createdAt", "updatedAt", "pinnedAt", "archivedAt" (null when not),
 *                "project" (only on a chat in one): { "name", "instructions", "model", "temperature",
 *                                                     "maxTokens", "reasoningEffort", "pdfEngine" },
 *                "messages": [ { "role": "user" | "assistant", "content" (Markdown as written),
 *                                "reasoning", "status", "model", "error", "finishReason",
 *                                "promptTokens", "completionTokens", "reasoningTokens",
 *                                "cachedTokens", "cost" (US dollars), "createdAt", "finishedAt",
 *                                "attachments" (only on a message with files):
 *                                  [ { "name", "type", "size", "sha256", "data" (base64) } ] } ] } ] }
 *
 * One chat or all of them, the file is the same: a list of chats. Times are ISO 8601 in UTC;
 * absent values are null. Messages are in reading order. No ids: an import makes new ones.
 * Version 1 is the same without attachments; both are read. parley-writer.ts writes it.
 */

export const FORMAT = "parley-chats";
export const VERSION = 2;
/** The oldest version this Parley reads. */
const OLDEST_VERSION = 1;

const time = (description: string) => t.String({ format: "date-time", description });
const orNull = <T extends Parameters<typeof t.Union>[0][number]>(schema: T) => t.Union([schema, t.Null()]);
const oneOf = (values: readonly string[], description?: string) =>
  t.Union(
    values.map((v) => t.Literal(v)),
    { description },
  );

const fileSchema = t.Object({
  name: t.String(),
  type: oneOf(fileTypes, "What its bytes are, as Parley found when it was uploaded."),
  size: t.Number({ description: "Bytes." }),
  sha256: t.String({ description: "Hex SHA-256 of the bytes." }),
  data: t.String({ description: "The bytes, in base64." }),
});

/** The same file as a JSON Schema, for the OpenAPI description of the export routes. */
export const exportSchema = t.Object(
  {
    format: t.Literal(FORMAT),
    version: t.Literal(VERSION),
    exportedAt: time("When the file was made."),
    chats: t.Array(
      t.Object({
        title: t.String(),
        model: t.String(),
        systemPrompt: orNull(t.String()),
        temperature: orNull(t.Number()),
        maxTokens: orNull(t.Number()),
        reasoningEffort: orNull(oneOf(reasoningEfforts)),
        pdfEngine: t.Optional(
          orNull(
            oneOf(pdfEngines, "How PDFs are read: OCR, or the model itself; null (or absent) is text extraction."),
          ),
        ),
        createdAt: time("When the chat was made."),
        updatedAt: time("Its last activity."),
        pinnedAt: t.Optional(orNull(time("When it was pinned (pinned chats head the list); null if it is not."))),
        archivedAt: t.Optional(
          orNull(time("When it was archived (it is out of the list, on the Archive page); null if it is not.")),
        ),
        project: t.Optional(
          orNull(
            t.Object(
              {
                name: t.String(),
                instructions: orNull(t.String({ description: "Sent before the chat's own system prompt." })),
                model: orNull(t.String({ description: "Its new chats' model; null: the person's usual one." })),
                temperature: orNull(t.Number()),
                maxTokens: orNull(t.Number()),
                reasoningEffort: orNull(oneOf(reasoningEfforts)),
                pdfEngine: orNull(oneOf(pdfEngines)),
              },
              {
                description:
                  "The project the chat is in; absent or null outside one. Imported into the person's project of that name, made if they have none.",
              },
            ),
          ),
        ),
        messages: t.Array(
          t.Object({
            role: oneOf(messageRole.enumValues),
            content: t.String({ description: "Markdown as written, never HTML." }),
            reasoning: orNull(t.String()),
            status: oneOf(
              messageStatus.enumValues,
              "streaming: being written when the file was made (imported as interrupted).",
            ),
            model: orNull(t.String()),
            error: orNull(t.String()),
            finishReason: orNull(t.String()),
            promptTokens: orNull(t.Number()),
            completionTokens: orNull(t.Number()),
            reasoningTokens: orNull(t.Number()),
            cachedTokens: orNull(t.Number()),
            cost: orNull(t.Number({ description: "US dollars." })),
            createdAt: time("When it was sent or started."),
            finishedAt: orNull(time("When the answer ended.")),
            attachments: t.Optional(
              t.Array(fileSchema, { description: "Only on a message with files; in the order they were attached." }),
            ),
          }),
          { description: "In reading order; of a chat with branches, the branch it shows." },
        ),
      }),
    ),
    projects: t.Optional(
      t.Array(
        t.Object({
          name: t.String({ description: "A project some of the chats are in (their `project.name`)." }),
          files: t.Array(fileSchema, { description: "Its files, in order: sent with every chat in it." }),
        }),
        { description: "The files of the chats' projects, of those that have files; after the chats." },
      ),
    ),
  },
  { description: "Parley's export format, version 2 (docs/export-format.md)." },
);

const STATUSES: readonly string[] = ["complete", "streaming", "stopped", "error", "interrupted"];

/** True for a document that says it is Parley's (whether or not it is a version this reads). */
export function looksLikeParley(doc: unknown): doc is Fields {
  return isObject(doc) && own(doc, "format") !== undefined;
}

/** The chats of a Parley export, every field checked; throws ImportError at the first problem. */
export async function readParley(
  doc: Fields,
  defaultModel: string,
  limits: Pick<FileLimits, "fileBytes" | "perMessage">,
): Promise<ImportedChat[]> {
  const format = own(doc, "format");
  if (format !== FORMAT) {
    throw new ImportError(`The file says its format is ${quoted(format)}; Parley reads "${FORMAT}" files.`);
  }
  const version = own(doc, "version");
  if (typeof version === "number" && Number.isInteger(version) && version > VERSION) {
    throw new ImportError(
      `The file is format version ${version}, from a newer Parley; this one reads version ${VERSION}.`,
    );
  }
  if (typeof version !== "number" || !Number.isInteger(version) || version < OLDEST_VERSION) {
    throw new ImportError(`The file has no valid format version (this Parley reads ${OLDEST_VERSION} to ${VERSION}).`);
  }
  const chats = own(doc, "chats");
  if (!Array.isArray(chats)) throw new ImportError(`The file has no list of chats.`);
  refuseTooManyChats(chats.length);
  const seen = tally();
  const pace = pacer();
  const read: ImportedChat[] = [];
  for (const [i, raw] of chats.entries()) {
    if (!isObject(raw)) throw new ImportError(`Chat ${i + 1} is not an object.`);
    const where = chatLabel("Chat", i, own(raw, "title"));
    const chat = reader(where, raw);
    const title = (chat.text("title", MAX_TITLE_LENGTH) ?? "").replace(/\s+/g, " ").trim();
    const model = chat.text("model", MAX_MODEL_LENGTH)?.trim() || defaultModel;
    const settings = readSettings(where, raw, model);
    const createdAt = chat.time("createdAt", "iso") ?? new Date();
    const list = own(raw, "messages");
    if (!Array.isArray(list)) chat.refuse("has no list of messages");
    const messages: ImportedMessage[] = [];
    for (const [j, item] of (list as unknown[]).entries()) {
      if (pace.due()) await pace.turn();
      seen.message();
      const at = `${where}, message ${j + 1}`;
      const message = readMessage(`${at},`, item, createdAt);
      const attachments = await readAttachments(
        at,
        isObject(item) ? own(item, "attachments") : undefined,
        limits,
        pace,
      );
      messages.push(attachments.length ? { ...message, attachments } : message);
    }
    const updatedAt = chat.time("updatedAt", "iso") ?? messages.at(-1)?.createdAt ?? createdAt;
    const project = readProject(where, own(raw, "project"));
    const pinnedAt = chat.time("pinnedAt", "iso") ?? null;
    const archivedAt = chat.time("archivedAt", "iso") ?? null;
    read.push({
      title,
      model,
      settings,
      createdAt,
      updatedAt,
      pinnedAt,
      archivedAt,
      messages,
      ...(project ? { project } : {}),
    });
  }
  return read;
}

/** One message of a chat; `createdAt`, the chat's, stands in for a missing time. */
function readMessage(at: string, item: unknown, createdAt: Date): ImportedMessage {
  if (!isObject(item)) throw new ImportError(`${at} is not an object.`);
  const m = reader(at, item);
  const role = own(item, "role");
  if (role !== "user" && role !== "assistant") {
    return m.refuse(`has the role ${quoted(role)}; only user and assistant messages can be imported`);
  }
  const status = own(item, "status") ?? "complete";
  if (typeof status !== "string" || !STATUSES.includes(status)) m.refuse(`has the status ${quoted(status)}`);
  return boundedMessage(m, {
    role,
    content: m.text("content", Number.MAX_SAFE_INTEGER, { required: true })!,
    reasoning: m.text("reasoning", MAX_ANSWER_LENGTH) || null,
    // An answer being written when it was exported is not being written here.
    status: status === "streaming" ? "interrupted" : (status as ImportedMessage["status"]),
    model: m.text("model", MAX_MODEL_LENGTH) ?? null,
    error: m.text("error", MAX_ERROR_LENGTH) ?? null,
    finishReason: m.text("finishReason", MAX_FINISH_REASON_LENGTH) ?? null,
    promptTokens: m.count("promptTokens"),
    completionTokens: m.count("completionTokens"),
    reasoningTokens: m.count("reasoningTokens"),
    cachedTokens: m.count("cachedTokens"),
    cost: m.dollars("cost"),
    createdAt: m.time("createdAt", "iso") ?? createdAt,
    finishedAt: m.time("finishedAt", "iso") ?? null,
  });
}

/**
 * The files of the chats' projects (the file's `projects`, after its chats), by project name,
 * each checked as an attachment is; none in files without them.
 */
export async function readParleyProjectFiles(
  doc: Fields,
  limits: Pick<FileLimits, "fileBytes">,
): Promise<Map<string, NewFile[]>> {
  const found = new Map<string, NewFile[]>();
  const raw = own(doc, "projects");
  if (raw === undefined || raw === null) return found;
  if (!Array.isArray(raw)) throw new ImportError("The file's projects are not a list.");
  const pace = pacer();
  for (const [i, item] of raw.entries()) {
    if (!isObject(item)) throw new ImportError(`Project ${i + 1} of the file's projects is not an object.`);
    const p = reader(`Project ${i + 1} of the file's projects`, item);
    const name = (p.text("name", MAX_PROJECT_NAME_LENGTH) ?? "").replace(/\s+/g, " ").trim();
    if (!name) p.refuse("has no name");
    const where = `The project “${name}”`;
    const list = own(item, "files");
    if (Array.isArray(list) && list.length > MAX_PROJECT_FILES) {
      throw new ImportError(`${where} has ${list.length} files; a project can hold at most ${MAX_PROJECT_FILES}.`);
    }
    found.set(name, await readAttachments(where, list, { ...limits, perMessage: MAX_PROJECT_FILES }, pace));
  }
  return found;
}

/** A chat's project, checked as the project's own form checks it; none when the file has none (older files). */
function readProject(chatWhere: string, raw: unknown): ImportedProject | undefined {
  if (raw === undefined || raw === null) return undefined;
  const where = `${chatWhere}'s project`;
  if (!isObject(raw)) throw new ImportError(`${where} is not an object.`);
  const p = reader(where, raw);
  const name = (p.text("name", MAX_PROJECT_NAME_LENGTH) ?? "").replace(/\s+/g, " ").trim();
  if (!name) p.refuse("has no name");
  const model = p.text("model", MAX_MODEL_LENGTH)?.trim() || null;
  const instructions = own(raw, "instructions");
  const settings = readSettings(where, { ...raw, systemPrompt: instructions ?? null }, model ?? "its model");
  return { name, model, settings };
}

/**
 * A chat's settings, checked as the chat's Settings form checks them (same limits, same
 * sentences), whatever model they are for: a model's list of parameters may have changed since.
 */
function readSettings(where: string, raw: Fields, model: string): ChatSettings {
  const form: Record<string, string> = {};
  const types = {
    systemPrompt: "string",
    temperature: "number",
    maxTokens: "number",
    reasoningEffort: "string",
    pdfEngine: "string",
  };
  for (const [key, type] of Object.entries(types) as [keyof typeof FIELDS, string][]) {
    const value = own(raw, key);
    if (value === undefined || value === null) continue;
    if (typeof value !== type)
      throw new ImportError(`${where} has a ${key} that is not a ${type === "string" ? "text" : type}.`);
    form[FIELDS[key]] = String(value);
  }
  try {
    return parseSettings(form, model, undefined);
  } catch (err) {
    if (err instanceof SettingsError) throw new ImportError(`${where}: ${err.message}`);
    throw err;
  }
}
