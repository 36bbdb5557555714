import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
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
import type { Source } from "../../llm/citations.ts";
import type { ToolStep } from "../../tools/types.ts";
import { users } from "./accounts.ts";
import { createdAt, generationSettings, id } from "./columns.ts";

/** Chats, their messages, projects, and what a person keeps for starting chats (presets, favourite models). */

export const messageRole = pgEnum("message_role", ["user", "assistant", "system"]);

/** complete: done; streaming: being written; stopped: the person pressed Stop; error: upstream
 * failed; interrupted: the process generating it died. */
export const messageStatus = pgEnum("message_status", ["complete", "streaming", "stopped", "error", "interrupted"]);

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
    /** Answers search the web (OpenRouter's web search); the composer's toggle, remembered per chat. */
    webSearch: boolean("web_search").notNull().default(false),
  },
  (t) => [
    index("chats_user_recent_idx").on(t.userId, t.updatedAt.desc(), t.id.desc()),
    index("chats_user_import_idx").on(t.userId, t.importHash).where(sql`${t.importHash} is not null`),
    // The sidebar's list: what is in no project and neither archived nor temporary, page by page
    // (a project's chats are read by chats_project_idx when its group opens). Nulls first, as
    // `order by ... desc` sorts them: an index sorted otherwise cannot serve that order (the
    // planner read all 10,000 chats of a person and sorted them, 3 ms instead of 0.1).
    index("chats_user_listed_idx")
      .on(t.userId, t.updatedAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.archivedAt} is null and not ${t.temporary} and ${t.projectId} is null`),
    // Pinned chats head the list: without it, their query read all of a person's chats to find them
    // (1.5 ms of a 10,000-chat person's page).
    index("chats_user_pinned_idx")
      .on(t.userId, t.pinnedAt.desc().nullsFirst(), t.id.desc().nullsFirst())
      .where(sql`${t.pinnedAt} is not null`),
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
    /** The web pages the answer cites (its web search's url citations), numbered in this order. */
    sources: jsonb("sources").$type<Source[]>(),
    /** The tools the answer called over MCP, in order (see schema/tools.ts). */
    toolSteps: jsonb("tool_steps").$type<ToolStep[]>(),
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

export type Chat = typeof chats.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type MessageStatus = (typeof messageStatus.enumValues)[number];

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
