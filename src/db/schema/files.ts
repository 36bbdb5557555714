import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import type { FileAnnotation } from "../../llm/annotations.ts";
import { users } from "./accounts.ts";
import { messages, projects } from "./chats.ts";
import { bytea, createdAt, id, type PdfEngine } from "./columns.ts";

/** Uploaded files and what links them to messages. */

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
 * A project's files, in order: sent with every chat in the project, before the chat's own
 * messages, as far as the context budget allows. Deleting the project or the file deletes the
 * link (cascade); like a message's, the link holds the file, so freeing unattached files leaves it.
 */
export const projectFiles = pgTable(
  "project_files",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    fileId: uuid("file_id")
      .notNull()
      .references(() => files.id, { onDelete: "cascade" }),
    position: integer("position").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("project_files_project_file_idx").on(t.projectId, t.fileId),
    index("project_files_file_idx").on(t.fileId),
  ],
);
