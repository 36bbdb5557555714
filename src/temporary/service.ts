import { topics } from "../chat/broadcast.ts";
import type { ChatCore } from "../chat/core.ts";
import type { Chat } from "../db/schema.ts";
import * as repo from "./repo.ts";

/**
 * Temporary chats' lifetime. A tab opening one (its socket) marks it as shown; every round, each
 * instance marks again those its tabs still show (its own pub/sub knows which), then deletes, with
 * every other instance, those no instance marked for the grace period (left: the last tab closed
 * or went elsewhere) or made TEMPORARY_CHAT_HOURS ago. A reload reconnects within the grace
 * period, so it keeps the chat; an answer being written keeps it until the answer ends.
 */
export function createTemporaryChats(core: Pick<ChatCore, "db" | "bus" | "config" | "log" | "broadcast">) {
  const { db, bus, config, log, broadcast } = core;
  const expiry = { graceSeconds: config.temporaryChatGrace, hours: config.temporaryChatHours };
  /** Temporary chats a tab on this instance showed at the last look. */
  const shownHere = new Set<string>();
  let round: Promise<number> | undefined;

  async function sweep(): Promise<number> {
    for (const id of shownHere) if (!bus.watched(topics.chat(id))) shownHere.delete(id);
    await repo.touch(db, [...shownHere]);
    let total = 0;
    for (;;) {
      const deleted = await repo.sweep(db, expiry);
      // Tabs still on one (made too long ago) say so, here and on other instances.
      for (const chat of deleted) {
        shownHere.delete(chat.id);
        broadcast.chatDeleted(chat.id);
      }
      total += deleted.length;
      if (deleted.length < 100) return total;
    }
  }

  return {
    /** TEMPORARY_CHAT_HOURS, which the chat's page states. */
    hours: config.temporaryChatHours,

    /** Three rounds per grace period, so a chat a tab shows is marked well within it. */
    everyMs: Math.max(500, Math.floor((config.temporaryChatGrace * 1000) / 3)),

    /** A tab opened this chat: if temporary, it is marked as shown, here and now. */
    async opened(chat: Chat): Promise<void> {
      if (!chat.temporary) return;
      shownHere.add(chat.id);
      await repo.touch(db, [chat.id]);
    },

    /** One round (see above); a round still running is not started twice. Answers how many chats were deleted. */
    round(): Promise<number> {
      round ??= sweep()
        .catch((err) => {
          log.warn("could not sweep temporary chats", { error: err });
          return 0;
        })
        .finally(() => {
          round = undefined;
        });
      return round;
    },
  };
}

export type TemporaryChats = ReturnType<typeof createTemporaryChats>;
