import { sql } from "drizzle-orm";
import { index, integer, jsonb, numeric, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { users } from "./accounts.ts";
import { messages } from "./chats.ts";
import { createdAt, id } from "./columns.ts";

/** Parley for a team: groups, API keys, what was spent, and the audit log. */

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
