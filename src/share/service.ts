import { type Actor, auditBy } from "../audit/log.ts";
import { renderMarkdown } from "../chat/markdown.ts";
import { attachmentsOf } from "../chat/repos/attachments.ts";
import { getOwnChat } from "../chat/repos/chats.ts";
import { conversation } from "../chat/repos/messages.ts";
import type { Database } from "../db/client.ts";
import type { Message, Share, SharedFile, SharedMessage } from "../db/schema.ts";
import type { ServedFile } from "../files/serve.ts";
import type { FileInfo } from "../files/types.ts";
import * as repo from "./repo.ts";
import type { ShareSummary } from "./types.ts";

/** 24 random bytes (192 bits), base64url: 32 characters in the link. */
const TOKEN_BYTES = 24;
const TOKEN = /^[A-Za-z0-9_-]{32}$/;

export const TEMPORARY_NOT_SHARED =
  "A temporary chat cannot be shared: it is deleted when you leave it. Start a regular chat to share it.";

const hashToken = (token: string) => new Bun.CryptoHasher("sha256").update(token).digest("hex");

/**
 * What a snapshot keeps of a message. System prompts and the model's reasoning stay private, as do
 * tokens, cost and error texts (an upstream error can say the account is out of credits). An
 * answer still being written keeps what the last progress save stored, and says it is unfinished.
 * Its files are named by their ids in the snapshot (`linkOf`).
 */
function snapshotOf(m: Message, attached: FileInfo[], linkOf: (fileId: string) => string): SharedMessage | undefined {
  const createdAt = m.createdAt.toISOString();
  const files = attached.map((f): SharedFile => ({ id: linkOf(f.id), name: f.name, size: f.size, type: f.type }));
  const attachments = files.length ? { attachments: files } : {};
  if (m.role === "user") return { role: "user", content: m.content, createdAt, ...attachments };
  if (m.role !== "assistant") return undefined;
  const html = m.status === "streaming" || m.html === null ? renderMarkdown(m.content) : m.html;
  return { role: "assistant", html, status: m.status, model: m.model, createdAt, ...attachments };
}

/** Publishing, listing, revoking and opening read-only snapshots of chats. */
export function createShareService({ database }: { database: Database }) {
  const { db } = database;
  return {
    /**
     * A new link to the chat as it is now, if the chat is this person's; the token is returned only
     * here. A temporary chat is refused with the sentence that says why.
     */
    async publish(
      by: Actor,
      chatId: unknown,
    ): Promise<{ share: ShareSummary; token: string } | { refused: string } | undefined> {
      const chat = await getOwnChat(db, by.user.id, chatId);
      if (!chat) return undefined;
      if (chat.temporary) return { refused: TEMPORARY_NOT_SHARED };
      const shown = await conversation(db, chat.id);
      const attached = await attachmentsOf(
        db,
        shown.map((m) => m.id),
      );
      // Each file once per snapshot, however many of its messages carry it.
      const links = new Map<string, string>();
      const linkOf = (fileId: string) => links.get(fileId) ?? links.set(fileId, Bun.randomUUIDv7()).get(fileId)!;
      const messages = shown.flatMap((m) => snapshotOf(m, attached.get(m.id) ?? [], linkOf) ?? []);
      const token = Buffer.from(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES))).toString("base64url");
      const share = await repo.insertShare(
        db,
        { tokenHash: hashToken(token), chatId: chat.id, title: chat.title, messages },
        [...links].map(([fileId, id]) => ({ id, fileId })),
      );
      if (!share) return undefined;
      // The link's token stays out of the log: whoever reads the log could open the chat with it.
      await auditBy(db, by, "share.create", `chat “${chat.title}”`, { shareId: share.id, chatId: chat.id });
      return { share, token };
    },

    /** The links to one of this person's chats; undefined when the chat is not theirs. */
    async ofChat(userId: string, chatId: unknown): Promise<ShareSummary[] | undefined> {
      if (!(await getOwnChat(db, userId, chatId))) return undefined;
      return repo.ownShares(db, userId, chatId as string);
    },

    /** Every link this person has published. */
    list: (userId: string) => repo.ownShares(db, userId),

    /** Revokes one of this person's links; false when there is no such link of theirs. */
    async revoke(by: Actor, shareId: unknown): Promise<boolean> {
      const gone = await repo.deleteOwnShare(db, by.user.id, shareId);
      if (!gone) return false;
      await auditBy(db, by, "share.revoke", `chat “${gone.title}”`, { shareId, chatId: gone.chatId });
      return true;
    },

    /** The snapshot behind a link, if the link exists. */
    async open(token: string): Promise<Share | undefined> {
      if (!TOKEN.test(token)) return undefined;
      return repo.shareByTokenHash(db, hashToken(token));
    },

    /** A file of the snapshot behind a link, by its id in that snapshot: no other file, of anyone. */
    async file(token: string, id: string): Promise<ServedFile | undefined> {
      if (!TOKEN.test(token)) return undefined;
      return repo.sharedFile(db, hashToken(token), id);
    },
  };
}

export type ShareService = ReturnType<typeof createShareService>;
