import {
  bigserial,
  boolean,
  index,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, id } from "./columns.ts";

/** The site: who signs in, their sessions, the admin's settings, and events between instances. */

/** A person who signs in. Usernames are stored lowercased, so "Ann" and "ann" are one account. */
export const users = pgTable(
  "users",
  {
    id: id(),
    username: text("username").notNull(),
    /**
     * Argon2id, in the PHC string format Bun.password writes. Null: the account signs in only
     * with single sign-on (made at a first sign-in there, src/sso).
     */
    passwordHash: text("password_hash"),
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
 * A person's account at an OpenID provider, linked to their Parley account: the provider's issuer
 * and its `sub` name it (never the e-mail, which a provider may let people change or reuse).
 */
export const identities = pgTable(
  "identities",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    issuer: text("issuer").notNull(),
    subject: text("subject").notNull(),
    /** What the provider called them at the last sign-in (preferred_username or e-mail), shown on the account page. */
    label: text("label"),
    createdAt: createdAt(),
    lastSignedInAt: timestamp("last_signed_in_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("identities_issuer_subject_idx").on(t.issuer, t.subject),
    uniqueIndex("identities_user_issuer_idx").on(t.userId, t.issuer),
  ],
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
    /** The single sign-on account it was started with; null for a password. Offers the provider's sign-out. */
    identityId: uuid("identity_id").references(() => identities.id, { onDelete: "set null" }),
  },
  (t) => [uniqueIndex("sessions_token_idx").on(t.tokenHash), index("sessions_user_idx").on(t.userId)],
);

/** Settings the admin changes in the app (not the process settings, which come from the environment). */
export const siteSettings = pgTable("site_settings", {
  name: text("name").primaryKey(),
  value: jsonb("value").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

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

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Identity = typeof identities.$inferSelect;
