import { index, jsonb, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { chats, type MessageStatus } from "./chats.ts";
import { createdAt, id } from "./columns.ts";
import { type FileType, files } from "./files.ts";

/** Read-only snapshots of chats, published by link, with copies of their files. */

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
