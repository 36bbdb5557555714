import { type ChatSettings, settingsOf } from "../chat/settings.ts";
import type { Chat, Message, MessageStatus, Project } from "../db/schema.ts";
import type { ExportedFile, FileToExport } from "./attachments.ts";
import { FORMAT, VERSION } from "./parley-format.ts";
import type { MessageDetails } from "./read.ts";

/*
 * Writing Parley's export format (parley-format.ts describes it; docs/export-format.md shows it):
 * a chat at a time, so that all of a person's chats need not be in memory at once, and each
 * file's bytes read and written on their own, so that neither do all of a chat's files.
 */

export type ExportedMessage = MessageDetails & {
  role: Message["role"];
  content: string;
  status: MessageStatus;
  createdAt: string;
  finishedAt: string | null;
  /** Only on a message with files. */
  attachments?: ExportedFile[];
};

/** A chat's project as the file holds it (its instructions are the project's system prompt). */
export type ExportedProject = { name: string; instructions: string | null; model: string | null } & Omit<
  ChatSettings,
  "systemPrompt"
>;

export type ExportedChat = {
  title: string;
  model: string;
} & ChatSettings & {
    createdAt: string;
    updatedAt: string;
    /** When the person pinned it, or archived it; null if not. */
    pinnedAt: string | null;
    archivedAt: string | null;
    /** Only on a chat in a project. */
    project?: ExportedProject;
    messages: ExportedMessage[];
  };

/** A chat as the writer takes it: as the file holds it, but each file's bytes read only when written. */
export type ChatToExport = Omit<ExportedChat, "messages"> & {
  messages: (Omit<ExportedMessage, "attachments"> & { attachments?: FileToExport[] })[];
};

/**
 * A stored chat and its messages (with their files, by message id) and its project, if it is in
 * one, as the file holds them: the text as saved, nothing rendered.
 */
export function exportedChat(
  chat: Chat,
  messages: Message[],
  files: Map<string, FileToExport[]> = new Map(),
  project?: Project,
): ChatToExport {
  return {
    title: chat.title,
    model: chat.model,
    ...settingsOf(chat),
    createdAt: chat.createdAt.toISOString(),
    updatedAt: chat.updatedAt.toISOString(),
    pinnedAt: chat.pinnedAt?.toISOString() ?? null,
    archivedAt: chat.archivedAt?.toISOString() ?? null,
    ...(project ? { project: exportedProject(project) } : {}),
    messages: messages.map((m) => {
      const attached = files.get(m.id);
      return {
        role: m.role,
        content: m.content,
        reasoning: m.reasoning,
        status: m.status,
        model: m.model,
        error: m.error,
        finishReason: m.finishReason,
        promptTokens: m.promptTokens,
        completionTokens: m.completionTokens,
        reasoningTokens: m.reasoningTokens,
        cachedTokens: m.cachedTokens,
        cost: m.cost,
        createdAt: m.createdAt.toISOString(),
        finishedAt: m.finishedAt?.toISOString() ?? null,
        ...(attached?.length ? { attachments: attached } : {}),
      };
    }),
  };
}

function exportedProject(p: Project): ExportedProject {
  const { systemPrompt, ...settings } = settingsOf(p);
  return { name: p.name, instructions: systemPrompt, model: p.model, ...settings };
}

/** A project's files as the file holds them, after the chats: by the project's name. */
export type ProjectToExport = { name: string; files: FileToExport[] };

/**
 * The file's text, written a chat at a time and a file's bytes at a time, indented for people to
 * read: the same text as JSON.stringify(document, null, 2). `projects` (read once the chats are
 * written): the files of the chats' projects, if any has files.
 */
export async function* parleyDocument(
  chats: Iterable<ChatToExport> | AsyncIterable<ChatToExport>,
  exportedAt: Date,
  projects: () => Promise<ProjectToExport[]> = async () => [],
): AsyncGenerator<string> {
  yield `{\n  "format": "${FORMAT}",\n  "version": ${VERSION},\n  "exportedAt": "${exportedAt.toISOString()}",\n  "chats": [`;
  let first = true;
  for await (const chat of chats) {
    yield `${first ? "" : ","}\n    `;
    yield* listed(chat, "messages", "    ", message);
    first = false;
  }
  yield first ? "]" : "\n  ]";
  const withFiles = (await projects()).filter((p) => p.files.length);
  if (withFiles.length) {
    yield `,\n  "projects": [`;
    for (const [i, project] of withFiles.entries()) {
      yield `${i ? "," : ""}\n    `;
      yield* listed(project, "files", "    ", file);
    }
    yield "\n  ]";
  }
  yield "\n}\n";
}

/** A value as JSON.stringify(value, null, 2) writes it, each line after the first indented by `indent`. */
const json = (value: unknown, indent: string) => JSON.stringify(value, null, 2).replaceAll("\n", `\n${indent}`);

/**
 * An object whose last field, `key`, is a list written an item at a time by `item`: the object's
 * other fields are written whole, then each item. With no list (a message without files), the object whole.
 */
async function* listed<T extends object, K extends keyof T & string>(
  object: T,
  key: K,
  indent: string,
  item: (value: NonNullable<T[K]> extends (infer I)[] ? I : never, indent: string) => AsyncGenerator<string>,
): AsyncGenerator<string> {
  const { [key]: list, ...rest } = object;
  if (!Array.isArray(list)) {
    yield json(rest, indent);
    return;
  }
  const head = json({ ...rest, [key]: [] }, indent);
  // The list is the last field: its "[]" is the last in the text.
  yield head.slice(0, head.lastIndexOf("[]") + 1);
  for (const [i, value] of list.entries()) {
    yield `${i ? "," : ""}\n${indent}    `;
    yield* item(value, `${indent}    `);
  }
  yield list.length ? `\n${indent}  ]\n${indent}}` : `]\n${indent}}`;
}

function message(m: ChatToExport["messages"][number], indent: string): AsyncGenerator<string> {
  return listed(m, "attachments", indent, file);
}

/** A file: what is known of it, then its bytes in base64, read now. */
async function* file(f: FileToExport, indent: string): AsyncGenerator<string> {
  const fields: ExportedFile = { name: f.name, type: f.type, size: f.size, sha256: f.sha256, data: "" };
  const text = json(fields, indent);
  // `data` is the last field: its empty string is the last "" in the text.
  const at = text.lastIndexOf('""') + 1;
  yield text.slice(0, at);
  yield Buffer.from(await f.bytes()).toString("base64");
  yield text.slice(at);
}
