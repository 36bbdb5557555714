import { plainText } from "../chat/plain-text.ts";
import type { ChatSettings } from "../chat/settings.ts";
import type { Message, MessageStatus } from "../db/schema.ts";
import type { NewFile } from "../files/repo.ts";
import { MAX_IMPORT_BYTES, MAX_MESSAGE_LENGTH, megabytes } from "../limits.ts";

/*
 * What an import may hold, and the strict readers both file formats are read with. A file is
 * someone's upload: every field is checked for its type and bounds before anything is stored,
 * and only the fields named here are ever read (a "__proto__" or "constructor" key is just an
 * unknown key: it is never looked up through the prototype chain, and nothing is copied whole).
 */

export const MAX_IMPORT_CHATS = 10_000;
/** Over all chats of one file. */
export const MAX_IMPORT_MESSAGES = 200_000;
/**
 * A person's message is bounded as when typed (MAX_MESSAGE_LENGTH); answers and reasoning are
 * written by models, which may write longer, but not without end.
 */
export const MAX_ANSWER_LENGTH = 500_000;
export const MAX_TITLE_LENGTH = 200;
export const MAX_MODEL_LENGTH = 200;
export const MAX_ERROR_LENGTH = 2_000;
export const MAX_FINISH_REASON_LENGTH = 100;
/** A day of clock difference between the machine that exported and this one. */
const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

/** A refusal of the whole file, with the sentence the person sees. Nothing is stored. */
export class ImportError extends Error {
  constructor(
    reason: string,
    readonly status = 400,
  ) {
    super(`${reason} Nothing was imported.`);
  }
}

/** One chat as read from a file, in the form it is stored (ids are made when it is stored). */
export type ImportedChat = {
  title: string;
  model: string;
  /** System prompt, temperature, max tokens, reasoning effort: null for the model's default. */
  settings: ChatSettings;
  createdAt: Date;
  updatedAt: Date;
  /** Pinned, archived: when, as the file says; null when not (and from ChatGPT's files). */
  pinnedAt?: Date | null;
  archivedAt?: Date | null;
  messages: ImportedMessage[];
  /** The project it was in (found by name among the person's, or made); none outside one. */
  project?: ImportedProject;
};

/** A project as an export carries it: its instructions are `settings.systemPrompt`; no model is the person's usual one. */
export type ImportedProject = { name: string; model: string | null; settings: ChatSettings };

/**
 * A chat as the file held it, hashed: its title and every message's role, text and files. Not its
 * times nor its model: a file without them gets the time of the import and the importer's model,
 * which would make the same file hash differently each time. The same chat read again, from the
 * same file or from a fresh export of the same source, hashes the same.
 */
export function chatHash(chat: ImportedChat): string {
  const messages = chat.messages.map((m) => [m.role, m.content, (m.attachments ?? []).map((f) => f.sha256)]);
  return new Bun.CryptoHasher("sha256").update(JSON.stringify([chat.title, messages])).digest("hex");
}

/** What a message keeps besides its role, text, status and times: the stored columns as they are. */
export type MessageDetails = Pick<
  Message,
  | "reasoning"
  | "model"
  | "error"
  | "finishReason"
  | "promptTokens"
  | "completionTokens"
  | "reasoningTokens"
  | "cachedTokens"
  | "cost"
>;

export type ImportedMessage = MessageDetails & {
  role: "user" | "assistant";
  content: string;
  status: Exclude<MessageStatus, "streaming">;
  createdAt: Date;
  finishedAt: Date | null;
  /** Its files, checked as uploads are (Parley's format only). */
  attachments?: NewFile[];
};

export type Fields = Record<string, unknown>;

/**
 * Text as the app stores it (LF line ends, no NUL), and well-formed: a lone UTF-16 surrogate,
 * which JSON may carry, is no character, and Postgres refuses it.
 */
export function storableText(text: string): string {
  return plainText(text).toWellFormed();
}

/** A JSON object (not an array, not null). */
export function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A field of a parsed object, only if the object itself has it: `constructor`, `toString`, ... are not found. */
export function own(object: Fields, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Where a problem is, for the sentence: `Chat 3 ("Title")`. */
export function chatLabel(kind: "Chat" | "Conversation", index: number, title?: unknown): string {
  const name = typeof title === "string" ? title.replace(/\s+/g, " ").trim() : "";
  if (!name) return `${kind} ${index + 1}`;
  return `${kind} ${index + 1} ("${name.length > 60 ? `${name.slice(0, 59)}…` : name}")`;
}

/** Reads fields of one object, each refusal naming where it is. */
export function reader(where: string, object: Fields) {
  const refuse = (problem: string): never => {
    throw new ImportError(`${where} ${problem}.`);
  };
  const present = (key: string) => {
    const value = own(object, key);
    return value === undefined || value === null ? undefined : value;
  };
  return {
    refuse,
    /** Text as the app stores it (LF line ends, no NUL), at most `max` characters. */
    text(key: string, max: number, opts: { required?: boolean } = {}): string | undefined {
      const value = present(key);
      if (value === undefined) {
        if (opts.required) refuse(`has no ${key}`);
        return undefined;
      }
      if (typeof value !== "string") return refuse(`has a ${key} that is not text`);
      const text = storableText(value);
      if (text.length > max) {
        refuse(`has a ${key} of ${count(text.length)} characters; the limit is ${count(max)}`);
      }
      return text;
    },
    /** A whole number of tokens, or null. */
    count(key: string): number | null {
      const value = present(key);
      if (value === undefined) return null;
      if (!Number.isSafeInteger(value) || (value as number) < 0 || (value as number) > 2_147_483_647) {
        return refuse(`has a ${key} that is not a whole number of tokens`);
      }
      return value as number;
    },
    /** Dollars, or null. Bounded by what the column holds (18 digits, 10 after the point). */
    dollars(key: string): number | null {
      const value = present(key);
      if (value === undefined) return null;
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value >= 1e8) {
        return refuse(`has a ${key} that is not an amount of dollars`);
      }
      return value;
    },
    /** An ISO 8601 time (Parley) or seconds since 1970 (ChatGPT), not in the future. */
    time(key: string, unit: "iso" | "seconds"): Date | undefined {
      const value = present(key);
      if (value === undefined) return undefined;
      const ms = unit === "iso" ? (typeof value === "string" ? Date.parse(value) : Number.NaN) : Number(value) * 1000;
      if ((unit === "seconds" && typeof value !== "number") || !Number.isFinite(ms) || ms < 0) {
        return refuse(`has a ${key} that is not a time`);
      }
      if (ms > Date.now() + FUTURE_SLACK_MS) return refuse(`has a ${key} in the future`);
      return new Date(ms);
    },
  };
}

/** The fields every message has, bounded; the format readers supply where they come from. */
export function boundedMessage(where: ReturnType<typeof reader>, m: ImportedMessage): ImportedMessage {
  if (m.role === "user") {
    if (!m.content.trim()) where.refuse("is empty");
    if (m.content.length > MAX_MESSAGE_LENGTH) {
      where.refuse(
        `is ${count(m.content.length)} characters long; a message you write may have at most ${count(MAX_MESSAGE_LENGTH)}`,
      );
    }
  } else if (m.content.length > MAX_ANSWER_LENGTH) {
    where.refuse(
      `is ${count(m.content.length)} characters long; an answer may have at most ${count(MAX_ANSWER_LENGTH)}`,
    );
  }
  return m;
}

export function refuseTooManyChats(chats: number) {
  if (chats > MAX_IMPORT_CHATS) {
    throw new ImportError(
      `The file holds ${count(chats)} chats; at most ${count(MAX_IMPORT_CHATS)} can be imported at once.`,
    );
  }
}

/** Counts messages as they are read, refusing the file as soon as it holds too many. */
export function tally() {
  let messages = 0;
  return {
    message() {
      if (++messages > MAX_IMPORT_MESSAGES) {
        throw new ImportError(
          `The file holds more than ${count(MAX_IMPORT_MESSAGES)} messages; at most that many can be imported at once.`,
        );
      }
    },
  };
}

/**
 * Lets timers and sockets run. The embedded database's statements resolve without ever yielding
 * to them.
 */
export const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Reading a large file is long work on the server's thread (checking 200,000 messages took 0.3 s
 * here): it takes a turn of the event loop whenever it has held the thread `ms` since the last.
 */
export function pacer(ms = 10) {
  let since = performance.now();
  return {
    due: () => performance.now() - since > ms,
    async turn() {
      await nextTurn();
      since = performance.now();
    },
  };
}

/** A value from the file, shown in a sentence: short, and never walked into (it may be nested without end). */
export function quoted(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (isObject(value)) return "an object";
  if (typeof value !== "string") return String(value);
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 39)}…` : value);
}

export function count(n: number): string {
  return n.toLocaleString("en");
}

/** The refusal of a file over MAX_IMPORT_BYTES, from its size or its upload's. */
export function tooLarge(bytes: number): ImportError {
  const size = megabytes(bytes);
  const limit = megabytes(MAX_IMPORT_BYTES);
  const about = size === limit ? "" : ` (this one is about ${size})`;
  return new ImportError(`The file is larger than ${limit}, the largest file Parley imports${about}.`, 413);
}
