import type { Db } from "../db/client.ts";
import type { Message } from "../db/schema.ts";
import type { LiveAnswer } from "../llm/live-answer.ts";
import { renderMarkdown } from "./markdown.ts";
import { attachmentsOf } from "./repos/attachments.ts";
import { siblingsOf } from "./repos/branches.ts";
import type { ShownMessage } from "./types.ts";

/**
 * Messages as a page shows them: cached HTML for a finished answer, the live state for one being
 * written (here or, followed, on another instance), and each one's place among its siblings.
 */
export class Shown {
  constructor(
    private readonly db: Db,
    private readonly live: (messageId: string) => LiveAnswer | undefined,
  ) {}

  /** A message as shown: cached HTML for a finished answer, the live state for one being written. */
  one(message: Message): ShownMessage {
    if (message.role !== "assistant") return { message };
    if (message.status === "streaming") {
      const g = this.live(message.id);
      if (g) return { message, live: g.shown() };
      const safeTail = message.content ? renderMarkdown(message.content) : "";
      const thinkingMs = message.thinkingMs ?? Math.max(0, Date.now() - message.createdAt.getTime());
      const reasoning = message.reasoning ?? "";
      return { message, live: { safeBlocks: [], safeTail, reasoning, thinkingMs, thought: message.content !== "" } };
    }
    return { message, safeHtml: message.html ?? renderMarkdown(message.content) };
  }

  /**
   * Shown messages with their place among siblings (‹ 2 / 3 ›) and their files, for those that
   * have any: a person's attachments, an answer's images (so far, for one being written).
   */
  async withSiblings(chatId: string, rows: Message[]): Promise<(message: Message) => ShownMessage> {
    const ids = rows.map((m) => m.id);
    const [siblings, attachments] = await Promise.all([siblingsOf(this.db, chatId, ids), attachmentsOf(this.db, ids)]);
    return (message) => ({
      ...this.one(message),
      siblings: siblings.get(message.id),
      attachments: attachments.get(message.id),
    });
  }
}
