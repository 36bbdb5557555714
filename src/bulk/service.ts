import type { ChatCore } from "../chat/core.ts";
import { ChatError } from "../chat/errors.ts";
import { streamingAnswerIn } from "../chat/repos/answers.ts";
import { isId } from "../db/ids.ts";
import { deleteUnheld } from "../files/repo.ts";
import { MAX_BULK_CHATS } from "../limits.ts";
import type { Generations } from "../llm/generations.ts";
import { getOwnProject } from "../projects/repo.ts";
import * as repo from "./repo.ts";

export type BulkAction = "archive" | "delete" | "move";
export type BulkResult = { done: number } | "no-chats" | "no-project";

/** The chat ids of a form: one (a string) or several (repeated `ids`), duplicates and non-ids left out. */
export function idsOf(raw: unknown): string[] {
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (all.length > MAX_BULK_CHATS) {
    throw new ChatError(`At most ${MAX_BULK_CHATS} chats can be changed at once: choose fewer and try again.`);
  }
  return [...new Set(all.filter(isId))];
}

/**
 * The sidebar's Select: archive, delete or move several of a person's listed chats at once. Each
 * action is one statement or one transaction over the chats that are the person's (another
 * person's, a temporary one or one gone meanwhile is passed over, as an unknown id is), then one
 * push of the list to their tabs, and each changed chat's own tabs told, as the one-chat actions
 * tell them.
 */
export function createBulkActions(core: ChatCore, generations: Generations) {
  const { db, locks, broadcast, sidebar, peers } = core;

  /** Answers being written in these chats are stopped first, as Delete does for one chat. */
  async function stopAnswers(userId: string, ids: string[]) {
    for (const id of ids) {
      const live = generations.inChat(id);
      if (live) {
        generations.stop(live.messageId);
        await live.done;
      } else if (peers) {
        const writing = await streamingAnswerIn(db, id);
        if (writing) broadcast.stopElsewhere(writing, userId);
      }
    }
  }

  /** Runs `fn` holding every one of these chats' locks (taken in one order: no two runs wait on each other). */
  const holding = <T>(ids: string[], fn: () => Promise<T>): Promise<T> =>
    [...ids].sort().reduce<() => Promise<T>>((inner, id) => () => locks.run(id, inner), fn)();

  return {
    async run(userId: string, action: unknown, rawIds: unknown, to?: unknown): Promise<BulkResult> {
      if (action !== "archive" && action !== "delete" && action !== "move") {
        throw new ChatError("Choose what to do with the chats: archive, delete or move them.");
      }
      const ids = idsOf(rawIds);
      if (!ids.length) throw new ChatError("Choose at least one chat.");
      let done: number;
      if (action === "archive") {
        done = (await repo.archiveChats(db, userId, ids)).length;
      } else if (action === "move") {
        if (typeof to !== "string") throw new ChatError("Choose where to move them: a project, or No project.");
        const project = to ? await getOwnProject(db, userId, to) : null;
        if (project === undefined) return "no-project";
        const moved = await repo.moveChats(db, userId, ids, project?.id ?? null);
        for (const chat of moved) broadcast.chatMoved(chat.id, project && { id: project.id, name: project.name });
        done = moved.length;
      } else {
        const own = await repo.listedChatIds(db, userId, ids);
        await stopAnswers(userId, own);
        const gone = await holding(own, async () => {
          const deleted = await repo.deleteChats(db, userId, own);
          for (const id of deleted.ids) broadcast.chatDeleted(id);
          return deleted;
        });
        // The chats are gone whatever happens here: files left behind are the sweep's.
        await deleteUnheld(db, userId, gone.held).catch(() => {});
        done = gone.ids.length;
      }
      if (!done) return "no-chats";
      sidebar.refresh(userId);
      return { done };
    },
  };
}

export type BulkActions = ReturnType<typeof createBulkActions>;
