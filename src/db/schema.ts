import { sql } from "drizzle-orm";
import { index, integer, numeric, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

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

export const chats = pgTable(
  "chats",
  {
    id: id(),
    title: text("title").notNull().default(""),
    model: text("model").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("chats_recent_idx").on(t.updatedAt.desc(), t.id.desc())],
);

export const messages = pgTable(
  "messages",
  {
    id: id(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    role: messageRole("role").notNull(),
    content: text("content").notNull().default(""),
    /** The finished answer rendered once (Markdown to safe HTML), so opening a chat renders nothing. */
    html: text("html"),
    /** The model's reasoning ("thinking"), kept apart from the answer and not sent back upstream. */
    reasoning: text("reasoning"),
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
  },
  (t) => [
    index("messages_chat_page_idx").on(t.chatId, t.id),
    index("messages_streaming_idx").on(t.status).where(sql`status = 'streaming'`),
  ],
);

export type Chat = typeof chats.$inferSelect;
export type Message = typeof messages.$inferSelect;
export type MessageStatus = (typeof messageStatus.enumValues)[number];
