import type { Chat, Message } from "../db/schema.ts";
import { estimateCost, reserve, SpendingRefused, settle } from "../teams/spending.ts";
import type { ChatCore } from "./core.ts";
import { getChat, updateChat } from "./repos/chats.ts";
import { conversation } from "./repos/messages.ts";

const TITLE_TOKENS = 24;

/**
 * After the chat's first answer to finish (the first exchange, or a later one when the answers
 * before it were stopped or failed), asks the model for a short title, keeping the fallback on failure.
 * A title costs money too: it is counted against the person's spending limits, and skipped
 * (the fallback stays) once one is reached.
 */
export async function nameChat(core: ChatCore, chat: Chat, answer: Message) {
  const { db, upstream, locks, broadcast, sidebar, log } = core;
  const turns = await conversation(db, chat.id);
  const finishedBefore = turns.some((t) => t.role === "assistant" && t.status === "complete" && t.id < answer.id);
  if (finishedBefore || chat.title !== fallbackTitle(turns[0]!.content)) return;
  // The question this answer answers (the first one, unless its answer never finished).
  const question = turns.findLast((t) => t.role === "user" && t.id < answer.id) ?? turns[0]!;
  const messages = [
    {
      role: "system" as const,
      content: "Write a title of at most six words for this conversation. Answer with the title only.",
    },
    {
      role: "user" as const,
      content: `${question.content.slice(0, 1500)}\n\n---\n\n${answer.content.slice(0, 1500)}`,
    },
  ];
  let usageId: string | undefined;
  try {
    if (chat.userId) {
      const estimate = estimateCost(await core.models.find(chat.model), messages, TITLE_TOKENS);
      usageId = await reserve(db, { userId: chat.userId, kind: "title", model: chat.model, estimate });
    }
    const { text: raw, usage } = await upstream.complete({
      model: chat.model,
      maxTokens: TITLE_TOKENS,
      signal: AbortSignal.timeout(20_000),
      messages,
    });
    if (usageId) await settle(db, usageId, usage ?? {});
    usageId = undefined;
    const title = cleanTitle(raw);
    if (!title) return;
    await locks.run(chat.id, async () => {
      const current = await getChat(db, chat.id);
      if (!current?.userId || current.title !== chat.title) return; // renamed by the person meanwhile
      const renamed = await updateChat(db, current.userId, chat.id, { title });
      if (renamed) broadcast.chatRenamed(renamed);
      sidebar.refresh(current.userId);
    });
  } catch (err) {
    if (err instanceof SpendingRefused) return; // over a limit: the fallback title stays
    log.debug("title generation failed", { chatId: chat.id, error: err });
    // Failed after it was reserved: its estimate keeps counting (see settle).
    if (usageId) await settle(db, usageId, {}).catch(() => {});
  }
}

/** A chat's title until the model names it: the first words of the first message. */
export function fallbackTitle(content: string): string {
  const words = content.replace(/\s+/g, " ").trim().split(" ");
  let title = "";
  for (const word of words) {
    if ((title + word).length > 60) break;
    title += `${word} `;
  }
  return (title.trim() || content.slice(0, 60)).trim();
}

function cleanTitle(raw: string): string {
  const line = raw.trim().split("\n")[0] ?? "";
  return line
    .replace(/^(title:\s*)/i, "")
    .replace(/^["'*#\s]+|["'*.\s]+$/g, "")
    .slice(0, 80)
    .trim();
}
