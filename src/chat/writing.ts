import type { Db } from "../db/client.ts";
import type { Generations } from "../llm/generations.ts";
import { ChatError, END_UNSAVED, STILL_WRITING, StillWriting, WRITING_RETRY } from "./errors.ts";
import { getOwnChatForSend } from "./repos/exchange.ts";

/** Refuses an action while an answer in the chat is being written here, or its end is not saved yet. */
export function refuseWhileWriting(
  generations: Generations,
  chatId: string,
  then: "send" | "retry" | "edit" | "switch",
) {
  const live = generations.inChat(chatId);
  if (!live) return;
  if (live.ending) throw new ChatError(END_UNSAVED);
  if (then === "send") throw new StillWriting(STILL_WRITING);
  if (then === "retry") throw new StillWriting(WRITING_RETRY);
  throw new StillWriting(`An answer is still being written: wait for it, or press Stop, then ${then}.`);
}

/**
 * Why an edit or a switch was refused under the chat's lock: an answer started (a send's
 * answer starts just after its lock), or another tab moved the chat to another branch.
 */
export async function refuseChange(db: Db, userId: string, chatId: string, what: "edit" | "switch"): Promise<never> {
  if ((await getOwnChatForSend(db, userId, chatId))?.streaming) {
    throw new StillWriting(`An answer is still being written: wait for it, or press Stop, then ${what}.`);
  }
  throw new ChatError(`That changed meanwhile in another tab: look again, then ${what}.`);
}
