import { isId } from "../db/ids.ts";
import { getOwnProject } from "../projects/repo.ts";
import type { Answers } from "./answers.ts";
import type { ChatCore } from "./core.ts";
import { ChatError } from "./errors.ts";
import type { PageState } from "./page-state.ts";
import { plainText } from "./plain-text.ts";
import { streamingAnswerIn } from "./repos/answers.ts";
import {
  archivedChats,
  type ChatWithTotals,
  chatWithTotals,
  deleteChat,
  getOwnChat,
  updateChat,
} from "./repos/chats.ts";
import { hasMessagesBefore, listMessages, listMessagesSince } from "./repos/messages.ts";
import type { Shown } from "./shown.ts";
import type { ShownMessage } from "./types.ts";

export const PAGE_SIZE = 50;
/** The most messages a chat page shows when opened at an older message. */
const OPEN_AT_LIMIT = 1000;

/** A person's chats: the list, opening one (and reading back), renaming and deleting. */
export function createChats(core: ChatCore, { answers, shown }: { answers: Answers; shown: Shown }) {
  const { db, locks, broadcast, sidebar, peers } = core;
  const { generations } = answers;

  return {
    getChat: (userId: string, id: unknown) => getOwnChat(db, userId, id),

    /**
     * A chat as its page shows it: the newest messages or, opened `at` a message (a search
     * result), everything from that message on, so the live part still ends with the newest.
     */
    async openChat(userId: string, id: string, at?: unknown) {
      const found = await chatWithTotals(db, id, userId);
      if (!found) return undefined;
      const [project, page] = await Promise.all([
        // The line under the title names the chat's project (src/projects/).
        found.chat.projectId ? getOwnProject(db, userId, found.chat.projectId) : undefined,
        listMessages(db, found.chat.id, { limit: PAGE_SIZE }),
      ]);
      if (isId(at) && page.hasOlder && at < page.messages[0]!.id) {
        const since = await listMessagesSince(db, found.chat.id, at, OPEN_AT_LIMIT + 1);
        // Further back than that, the newest page it is: a live page must end with the newest.
        if (since[0]?.id === at && since.length <= OPEN_AT_LIMIT) {
          const show = await shown.withSiblings(found.chat.id, since);
          return {
            ...found,
            project,
            messages: since.map(show),
            hasOlder: await hasMessagesBefore(db, found.chat.id, at),
          };
        }
      }
      const show = await shown.withSiblings(found.chat.id, page.messages);
      return { ...found, project, messages: page.messages.map(show), hasOlder: page.hasOlder };
    },

    async olderMessages(userId: string, chatId: string, before: string) {
      if (!isId(before) || !(await getOwnChat(db, userId, chatId))) return undefined;
      const page = await listMessages(db, chatId, { before, limit: PAGE_SIZE });
      const show = await shown.withSiblings(chatId, page.messages);
      return { messages: page.messages.map(show), hasOlder: page.hasOlder };
    },

    /**
     * What a (re)connecting tab needs, as of now: the chat's title and totals, and the messages
     * from `since` on that the page lacks (all of them when it did not say what it shows). Taken
     * under the chat's lock and snapshotted synchronously before `deliver`, so it fits exactly
     * between the events the socket already got and the frames that follow.
     */
    resync(chatId: string, since: string | undefined, page: PageState | undefined, deliver: (sync: Resync) => void) {
      return locks.run(chatId, async () => {
        const chat = await chatWithTotals(db, chatId);
        // Without `since` the page showed no message: send the newest page, as the page would.
        const rows = isId(since)
          ? await listMessagesSince(db, chatId, since, 1000)
          : (await listMessages(db, chatId, { limit: PAGE_SIZE })).messages;
        const streamingId = rows.find((m) => m.status === "streaming")?.id;
        const show = await shown.withSiblings(chatId, rows);
        const shownRows = rows.map(show);
        deliver({ ...missing(shownRows, page), streamingId, chat });
      });
    },

    async rename(userId: string, chatId: string, rawTitle: unknown) {
      const title = typeof rawTitle === "string" ? plainText(rawTitle).trim().replace(/\s+/g, " ").slice(0, 200) : "";
      if (!title) throw new ChatError("A title cannot be empty.");
      return locks.run(chatId, async () => {
        const chat = await updateChat(db, userId, chatId, { title });
        if (!chat) return undefined;
        broadcast.chatRenamed(chat);
        sidebar.refresh(userId);
        return chat;
      });
    },

    /**
     * Pins a chat above the rest of the list, or unpins it. A temporary chat is never listed, so
     * it cannot be pinned.
     */
    async pin(userId: string, chatId: string, pinned: boolean) {
      const found = await getOwnChat(db, userId, chatId);
      if (!found) return undefined;
      if (found.temporary) throw new ChatError("A temporary chat is not listed, so it cannot be pinned.");
      const chat = await updateChat(db, userId, chatId, { pinnedAt: pinned ? new Date() : null });
      sidebar.refresh(userId);
      return chat;
    },

    /** Archives a chat (it leaves the list; search and the Archive page still find it), or restores it. */
    async archive(userId: string, chatId: string, archived: boolean) {
      const found = await getOwnChat(db, userId, chatId);
      if (!found) return undefined;
      if (found.temporary) throw new ChatError("A temporary chat is deleted when you leave it; it cannot be archived.");
      const chat = await updateChat(db, userId, chatId, { archivedAt: archived ? new Date() : null });
      sidebar.refresh(userId);
      return chat;
    },

    /** A page of the person's archived chats, the most recently archived first. */
    archived: (userId: string, before?: string) => archivedChats(db, userId, before),

    /** Deletes a chat; an answer being written is aborted first (no more billing for it). */
    async remove(userId: string, chatId: string) {
      if (!(await getOwnChat(db, userId, chatId))) return false;
      const live = generations.inChat(chatId);
      if (live) {
        generations.stop(live.messageId);
        await live.done;
      } else if (peers) {
        const writing = await streamingAnswerIn(db, chatId);
        if (writing) broadcast.stopElsewhere(writing, userId);
      }
      return locks.run(chatId, async () => {
        const deleted = await deleteChat(db, userId, chatId);
        if (deleted) {
          broadcast.chatDeleted(chatId);
          sidebar.refresh(userId);
        }
        return deleted;
      });
    },
  };
}

/** What a (re)connecting page is sent of its chat (see `missing`). */
export type Resync = {
  /** The whole live part of the conversation: the page did not say what it shows, or shows another branch. */
  all?: ShownMessage[];
  /** The page's last message as it is now (an answer that went on or ended meanwhile). */
  changed?: ShownMessage;
  /** The messages after the page's last. */
  after: ShownMessage[];
  streamingId?: string;
  chat?: ChatWithTotals;
};

/**
 * The messages a page lacks. Ids grow along a branch and every message has one parent, so when
 * the page's last message is still shown, so is everything the page shows before it; `forks` then
 * says whether any of those gained a version meanwhile (edited elsewhere, then switched back).
 */
function missing(rows: ShownMessage[], page: PageState | undefined): Pick<Resync, "all" | "changed" | "after"> {
  if (!page) return { all: rows, after: [] };
  const at = page.last ? rows.findIndex((m) => m.message.id === page.last!.id) : -1;
  const versions = (list: ShownMessage[]) => list.reduce((n, m) => n + (m.siblings?.count ?? 1), 0);
  const kept = rows.slice(0, at + 1);
  if ((page.last && at < 0) || versions(kept) !== page.forks) return { all: rows, after: [] };
  const last = kept.at(-1);
  const changed = last && (last.message.status !== page.last!.status || last.message.status === "streaming");
  return { changed: changed ? last : undefined, after: rows.slice(at + 1) };
}
