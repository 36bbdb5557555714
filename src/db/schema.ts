import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigserial,
  boolean,
  check,
  customType,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { FileAnnotation } from "../llm/annotations.ts";

/**
 * Ids are UUIDv7, made by the app: they sort by creation time, so "newest chats" and "a chat's
 * messages in order" page by id alone, even when two rows share a timestamp.
 */
const id = () =>
  uuid("id")
    .primaryKey()
    .$defaultFn(() => Bun.randomUUIDv7());

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

export const messageRole = pgEnum("message_role", ["user", "assistant", "system"]);

/** complete: done; streaming: being written; stopped: the person pressed Stop; error: upstream
 * failed; interrupted: the process generating it died. */
export const messageStatus = pgEnum("message_status", ["complete", "streaming", "stopped", "error", "interrupted"]);

/** A person who signs in. Usernames are stored lowercased, so "Ann" and "ann" are one account. */
export const users = pgTable(
  "users",
  {
    id: id(),
    username: text("username").notNull(),
    /** Argon2id, in the PHC string format Bun.password writes. */
    passwordHash: text("password_hash").notNull(),
    isAdmin: boolean("is_admin").notNull().default(false),
    /** The model this person last chose for a new chat. */
    model: text("model"),
    /**
     * This person's own spending limits in US dollars, overriding their groups' and the site's
     * default (src/teams). Null: not set here.
     */
    dailyLimit: numeric("daily_limit", { precision: 12, scale: 4, mode: "number" }),
    monthlyLimit: numeric("monthly_limit", { precision: 12, scale: 4, mode: "number" }),
    /** Set by an admin: the person cannot sign in or spend; their data is kept. Null: enabled. */
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("users_username_idx").on(t.username)],
);

/**
 * A signed-in browser. Only the SHA-256 of its token is kept: a copy of the database does not
 * let anyone sign in. A session ends when idle too long, when too old, or when deleted.
 */
export const sessions = pgTable(
  "sessions",
  {
    id: id(),
    tokenHash: text("token_hash").notNull(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    userAgent: text("user_agent"),
  },
  (t) => [uniqueIndex("sessions_token_idx").on(t.tokenHash), index("sessions_user_idx").on(t.userId)],
);

/** Settings the admin changes in the app (not the process settings, which come from the environment). */
export const siteSettings = pgTable("site_settings", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** How hard a reasoning model thinks, sent as OpenRouter's `reasoning: { effort }`. */
export const reasoningEfforts = ["low", "medium", "high"] as const;
export type ReasoningEffort = (typeof reasoningEfforts)[number];

/**
 * How PDFs in a chat are read (OpenRouter's file-parser engines, in Parley's words, so a renamed
 * engine upstream changes one map in src/llm/openrouter.ts, not the stored rows): "text"
 * extraction (free), "ocr" for scanned pages (paid per page), or the model reading the PDF itself
 * ("native", charged as input tokens). Null is text extraction: left unset, OpenRouter would fall
 * back to paid OCR for a model that cannot read PDFs.
 */
export const pdfEngines = ["text", "ocr", "native"] as const;
export type PdfEngine = (typeof pdfEngines)[number];

/**
 * How a chat's answers are asked for, shared by chats and presets; null means "the model's
 * default" (nothing is sent). The system prompt lives here rather than as a message: it is a
 * setting of the chat, changed at any time and applying to the next answer, not something said
 * at one point of the conversation, so it has no place in the transcript or its branches.
 */
const generationSettings = () => ({
  systemPrompt: text("system_prompt"),
  temperature: doublePrecision("temperature"),
  maxTokens: integer("max_tokens"),
  reasoningEffort: text("reasoning_effort").$type<ReasoningEffort>(),
  pdfEngine: text("pdf_engine").$type<PdfEngine>(),
});

export const chats = pgTable(
  "chats",
  {
    id: id(),
    /**
     * The owner. Null only for chats made before accounts existed; the first account created
     * adopts them, and until then nobody sees them.
     */
    userId: uuid("user_id").references(() => users.id, { onDelete: "cascade" }),
    title: text("title").notNull().default(""),
    model: text("model").notNull(),
    ...generationSettings(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /**
     * For an imported chat, a hash of the chat as the file held it (src/transfer/read.ts,
     * chatHash): importing the same file again skips the chats already here. Null for chats
     * written here.
     */
    importHash: text("import_hash"),
    /** The project the chat belongs to; a chat outside any project has none. */
    projectId: uuid("project_id").references((): AnyPgColumn => projects.id, { onDelete: "set null" }),
    /** Pinned chats head the list, most recently pinned first. */
    pinnedAt: timestamp("pinned_at", { withTimezone: true }),
    /** Archived chats leave the list; search still finds them, the Archive page lists them. */
    archivedAt: timestamp("archived_at", { withTimezone: true }),
    /**
     * A temporary chat is never listed, searched, exported or shared, and is deleted when its
     * person leaves it or TEMPORARY_CHAT_HOURS after it was made, whichever comes first.
     */
    temporary: boolean("temporary").notNull().default(false),
  },
  (t) => [
    index("chats_user_recent_idx").on(t.userId, t.updatedAt.desc(), t.id.desc()),
    index("chats_user_import_idx").on(t.userId, t.importHash).where(sql`${t.importHash} is not null`),
    // The sidebar's list: what is neither archived nor temporary, page by page. Nulls first, as
    // `order by ... desc` sorts them: an index sorted otherwise cannot serve that order (the
    // planner read all 10,000 chats of a person and sorted them, 3 ms instead of 0.1).
    index("chats_user_listed_idx")
      .on(t.userId, t.updatedAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.archivedAt} is null and not ${t.temporary}`),
    index("chats_user_archived_idx")
      .on(t.userId, t.archivedAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.archivedAt} is not null`),
    index("chats_project_idx")
      .on(t.projectId, t.updatedAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.projectId} is not null`),
    index("chats_temporary_idx").on(t.createdAt).where(sql`${t.temporary}`),
  ],
);

/**
 * A person's project: chats grouped under a name, with instructions (`systemPrompt`, sent before
 * each of its chats' own system prompt), and optionally a model and parameters that its new
 * chats start from (null: the person's usual default).
 */
export const projects = pgTable(
  "projects",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    model: text("model"),
    ...generationSettings(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("projects_user_name_idx").on(t.userId, t.name)],
);

export type Project = typeof projects.$inferSelect;

export const messages = pgTable(
  "messages",
  {
    id: id(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    /** The message this one follows; an edit or a new answer is a sibling of what it replaces. */
    parentId: uuid("parent_id").references((): AnyPgColumn => messages.id, { onDelete: "cascade" }),
    /** On the branch the chat shows (see the branch notes in src/chat/repo.ts). */
    active: boolean("active").notNull().default(true),
    role: messageRole("role").notNull(),
    content: text("content").notNull().default(""),
    /** The finished answer rendered once (Markdown to safe HTML), so opening a chat renders nothing. */
    html: text("html"),
    /** The model's reasoning ("thinking"), kept apart from the answer and not sent back upstream. */
    reasoning: text("reasoning"),
    /** How long the model reasoned before its answer began (or ended, if it never began), in ms. */
    thinkingMs: integer("thinking_ms"),
    status: messageStatus("status").notNull().default("complete"),
    model: text("model"),
    error: text("error"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    reasoningTokens: integer("reasoning_tokens"),
    cachedTokens: integer("cached_tokens"),
    /** Why the model stopped: stop, length (cut off), content_filter, ... */
    finishReason: text("finish_reason"),
    /** In US dollars, as OpenRouter reports it. */
    cost: numeric("cost", { precision: 18, scale: 10, mode: "number" }),
    createdAt: createdAt(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /**
     * While an answer is written: until when the process writing it has vouched for it (it renews
     * this every few seconds). Past it, any process takes the answer for dead (see chat/leases.ts).
     */
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
  },
  (t) => [
    index("messages_chat_page_idx").on(t.chatId, t.id),
    index("messages_parent_idx").on(t.chatId, t.parentId),
    index("messages_streaming_idx").on(t.status).where(sql`status = 'streaming'`),
  ],
);

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Chat = typeof chats.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type MessageStatus = (typeof messageStatus.enumValues)[number];

/**
 * A read-only snapshot of a chat, published at /s/<token>. It holds a copy of the messages as
 * they were when published, not a reference to them: answers are regenerated and messages edited
 * in place, and a snapshot must not change after it is published. Deleting the chat deletes its
 * snapshots (cascade); revoking deletes the row. Only the SHA-256 of the link's token is kept, as
 * for sessions: a copy of the database, or of its query log, holds no working link. The price is
 * that a link is shown once, when it is made; afterwards its owner sees when each was made and can
 * revoke it, or make a new one.
 */
export const shares = pgTable(
  "shares",
  {
    id: id(),
    tokenHash: text("token_hash").notNull(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    /** The chat's title when published. */
    title: text("title").notNull(),
    messages: jsonb("messages").$type<SharedMessage[]>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("shares_token_idx").on(t.tokenHash), index("shares_chat_idx").on(t.chatId)],
);

/**
 * One message of a snapshot: a person's text (escaped when shown), or an answer's HTML, already
 * sanitized by the Markdown renderer. An answer's status says whether it was finished.
 */
export type SharedMessage =
  | { role: "user"; content: string; createdAt: string; attachments?: SharedFile[] }
  | {
      role: "assistant";
      html: string;
      status: MessageStatus;
      model: string | null;
      createdAt: string;
      attachments?: SharedFile[];
    };

/**
 * A file a snapshot shows, as it was when published. `id` is its share_files row, served at
 * /s/<token>/files/<id>: a snapshot names its own copies, never its owner's file ids. Snapshots
 * published before files existed have no `attachments`.
 */
export type SharedFile = { id: string; name: string; size: number; type: FileType };

export type Share = typeof shares.$inferSelect;

/** A person's saved starting point for chats: a model, a system prompt and parameters, by name. */
export const presets = pgTable(
  "presets",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    model: text("model").notNull(),
    ...generationSettings(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("presets_user_name_idx").on(t.userId, t.name)],
);

export type Preset = typeof presets.$inferSelect;

/** The models a person starred in the model picker: offered first. */
export const favouriteModels = pgTable(
  "favourite_models",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    model: text("model").notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("favourite_models_user_model_idx").on(t.userId, t.model)],
);

/**
 * Live events between instances travel as Postgres notifications, which hold at most 8,000
 * bytes. A larger one (a finished answer's HTML) is written here and notified by its id; rows
 * are read within moments and deleted after a few minutes (see bus/notify.ts).
 */
export const busEvents = pgTable("bus_events", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  payload: text("payload").notNull(),
  createdAt: createdAt(),
});

/** Bytes, as Postgres's bytea: sent as a Buffer, which postgres.js sends as binary (PGlite takes any Uint8Array). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
});

/** What Parley accepts as a file, by what its bytes are (src/files/kinds.ts), never by its name or the browser's say. */
export const fileTypes = [
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
  "application/pdf",
  "text/plain",
] as const;
export type FileType = (typeof fileTypes)[number];

/**
 * A file a person uploaded: its bytes, validated type and name. Content-addressed per person: the
 * same bytes uploaded again by the same person are this row again (one copy, the name first
 * given), never a second copy. Not shared between people: deleting a row frees its bytes at once,
 * with no count of who else holds them, and nobody can learn from an upload whether someone else
 * has the same file. Deleting the person deletes their files (cascade).
 */
export const files = pgTable(
  "files",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Hex SHA-256 of the bytes. */
    sha256: text("sha256").notNull(),
    name: text("name").notNull(),
    type: text("type").$type<FileType>().notNull(),
    /** Bytes, kept beside them so a person's storage is summed without reading any file. */
    size: integer("size").notNull(),
    bytes: bytea("bytes").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("files_user_sha256_idx").on(t.userId, t.sha256),
    check("files_size_check", sql`${t.size} > 0 and ${t.size} = octet_length(${t.bytes})`),
    check("files_sha256_check", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
  ],
);

export type StoredFile = typeof files.$inferSelect;

/**
 * The files attached to a message, in order. Deleting the message deletes these links (cascade);
 * the file stays until whoever frees unattached files deletes it. Deleting a file deletes its
 * links too: without that cascade, deleting a person fails (Postgres checks the link to a file
 * before the link's message is deleted), so "a file still attached is kept" is for the statement
 * that frees files to say (not exists ..., locking the rows it deletes). Its own id, because moving
 * the data copies every table in batches by a one-column key (src/backup/move.ts).
 */
export const messageFiles = pgTable(
  "message_files",
  {
    id: id(),
    messageId: uuid("message_id")
      .notNull()
      .references(() => messages.id, { onDelete: "cascade" }),
    fileId: uuid("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
  },
  (t) => [
    uniqueIndex("message_files_message_position_idx").on(t.messageId, t.position),
    index("message_files_file_idx").on(t.fileId),
  ],
);

/**
 * What OpenRouter's file-parser read from the PDFs of an answer's request (see src/llm/annotations.ts),
 * and with which engine: sent back on that answer in later requests made with the same engine, so
 * the PDFs are not parsed (nor paid for) again. A row of its own, not a column of messages: it can
 * run to megabytes, and nothing that shows a message reads it.
 */
export const messageAnnotations = pgTable("message_annotations", {
  messageId: uuid("message_id")
    .primaryKey()
    .references(() => messages.id, { onDelete: "cascade" }),
  engine: text("engine").$type<PdfEngine>().notNull(),
  files: jsonb("files").$type<FileAnnotation[]>().notNull(),
});

/**
 * The files of a share snapshot: /s/<token>/files/<id> serves these rows' files and nothing else.
 * A link, not a second copy of the bytes: a file's bytes never change (content-addressed), so the
 * link shows exactly what was published, and costs its owner no storage. While the snapshot lives,
 * the link keeps its file: whoever frees unattached files must spare the files linked here too.
 * Revoking the link or deleting the chat deletes the snapshot and these rows (cascade): the files
 * are unreachable through it at once. Deleting the file itself takes it out of the snapshot too.
 */
export const shareFiles = pgTable(
  "share_files",
  {
    id: id(),
    shareId: uuid("share_id")
      .notNull()
      .references(() => shares.id, { onDelete: "cascade" }),
    fileId: uuid("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
  },
  (t) => [
    uniqueIndex("share_files_share_file_idx").on(t.shareId, t.fileId),
    index("share_files_file_idx").on(t.fileId),
  ],
);

/**
 * People the admin puts together to give them the same models and limits (src/teams). A person
 * may be in several groups: they may use any model one of their groups allows, and the most
 * generous of their groups' limits applies (their own limits, on users, override both).
 */
export const groups = pgTable(
  "groups",
  {
    id: id(),
    name: text("name").notNull(),
    /** Model patterns: "anthropic/*", "openai/gpt-4o-mini". Null: this group restricts no model. */
    allowedModels: jsonb("allowed_models").$type<string[]>(),
    dailyLimit: numeric("daily_limit", { precision: 12, scale: 4, mode: "number" }),
    monthlyLimit: numeric("monthly_limit", { precision: 12, scale: 4, mode: "number" }),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("groups_name_idx").on(sql`lower(${t.name})`)],
);

/** Who is in which group. Its own id, because moving the data copies tables by a one-column key. */
export const groupMembers = pgTable(
  "group_members",
  {
    id: id(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => groups.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
  },
  (t) => [
    uniqueIndex("group_members_group_user_idx").on(t.groupId, t.userId),
    index("group_members_user_idx").on(t.userId),
  ],
);

export type Group = typeof groups.$inferSelect;

/**
 * A personal key for other tools (editors, scripts) to use /v1 in this person's name. Only the
 * SHA-256 of the key is kept, as for sessions; `prefix` is its first characters, shown so its owner
 * can tell keys apart. Revoking sets revoked_at (the row stays, for the usage and audit it names).
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    prefix: text("prefix").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_keys_token_idx").on(t.tokenHash), index("api_keys_user_idx").on(t.userId)],
);

export type ApiKey = typeof apiKeys.$inferSelect;

/** What spent money upstream: a chat's answer, a chat's title, or a request to /v1. */
export const usageKinds = ["answer", "title", "api"] as const;
export type UsageKind = (typeof usageKinds)[number];

/**
 * Every request that costs money, one row each: what limits count and usage pages sum. A row is
 * written before the request goes upstream, holding an estimate (from the model's prices and the
 * request's size), so answers in flight count against limits; it is settled with the tokens and
 * cost OpenRouter reports. Spent = sum(coalesce(cost, estimate)). Deleting a chat or a person
 * keeps their rows (the money was spent): the references are set null, the model stays.
 */
export const usage = pgTable(
  "usage",
  {
    id: id(),
    userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
    kind: text("kind").$type<UsageKind>().notNull(),
    model: text("model").notNull(),
    /** The answer this paid for (kind "answer"). */
    messageId: uuid("message_id").references(() => messages.id, { onDelete: "set null" }),
    /** The key a /v1 request came with (kind "api"). */
    apiKeyId: uuid("api_key_id").references(() => apiKeys.id, { onDelete: "set null" }),
    /** In US dollars: what the request was expected to cost at most, counted until settled. */
    estimate: numeric("estimate", { precision: 18, scale: 10, mode: "number" }).notNull(),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    /** In US dollars, as OpenRouter reported it; null until settled. */
    cost: numeric("cost", { precision: 18, scale: 10, mode: "number" }),
    createdAt: createdAt(),
    settledAt: timestamp("settled_at", { withTimezone: true }),
  },
  (t) => [
    index("usage_user_time_idx").on(t.userId, t.createdAt),
    index("usage_time_idx").on(t.createdAt),
    index("usage_message_idx").on(t.messageId),
    index("usage_unsettled_idx").on(t.createdAt).where(sql`settled_at is null`),
  ],
);

export type Usage = typeof usage.$inferSelect;

/**
 * What happened that an admin may need to account for: sign-ins (failed too), admin actions, keys
 * and share links made or revoked. Append-only: a trigger refuses updates; rows are deleted only
 * when older than the retention setting. The actor's name is kept beside the reference, so a
 * deleted person's entries still say who.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    actorName: text("actor_name"),
    /** "signin", "signin.failed", "user.disable", "group.create", "key.revoke", "share.create", ... */
    action: text("action").notNull(),
    /** What it was done to, in words ("ann", "group Lab", "key laptop"). */
    target: text("target"),
    detail: jsonb("detail").$type<Record<string, unknown>>(),
    ip: text("ip"),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_time_idx").on(t.createdAt), index("audit_log_action_idx").on(t.action, t.createdAt)],
);

export type AuditEntry = typeof auditLog.$inferSelect;
