import type { Chat, Message } from "../db/schema.ts";
import type { ChatCore } from "./core.ts";
import { getChat, updateChat } from "./repos/chats.ts";
import { conversation } from "./repos/messages.ts";

/** After the first exchange, asks the model for a short title, keeping the fallback on failure. */
export async function nameChat(core: ChatCore, chat: Chat, answer: Message) {
  const { db, upstream, locks, broadcast, sidebar, log } = core;
  const turns = await conversation(db, chat.id);
  if (turns.length !== 2 || chat.title !== fallbackTitle(turns[0]!.content)) return;
  try {
    const raw = await upstream.complete({
      model: chat.model,
      maxTokens: 24,
      signal: AbortSignal.timeout(20_000),
      messages: [
        {
          role: "system",
          content: "Write a title of at most six words for this conversation. Answer with the title only.",
        },
        { role: "user", content: `${turns[0]!.content.slice(0, 1500)}\n\n---\n\n${answer.content.slice(0, 1500)}` },
      ],
    });
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
    log.debug("title generation failed", { chatId: chat.id, error: err });
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
