import { SettingsSummary } from "../../views/components/chat-settings.tsx";
import { ComposerControls, ComposerStatus } from "../../views/components/composer.tsx";
import { FrameFragment, MessageArticle } from "../../views/components/message.tsx";
import { ChatNav } from "../../views/components/sidebar.tsx";
import { ChatTitle, ChatUsage, type ShownMessage, type Totals } from "../../views/pages/chat.tsx";
import type { Chat, Message } from "../db/schema.ts";
import type { Frame } from "../llm/generations.ts";

/**
 * Carries rendered fragments to every socket subscribed to a topic. In one process it is Bun's
 * pub/sub; the scale-out issue swaps in Postgres LISTEN/NOTIFY behind the same interface.
 */
export type Bus = { publish(topic: string, html: string): void };

/**
 * Who hears what: a chat's events go to the tabs open on it (a socket subscribes only after the
 * chat is found to be its person's); a person's chat list goes to all their tabs and nobody else's.
 */
export const topics = {
  chat: (chatId: string) => `chat:${chatId}`,
  user: (userId: string) => `user:${userId}`,
};

/** Our components are synchronous; kitajs would hand back a Promise only for async ones. */
export function html(element: JSX.Element): string {
  if (typeof element !== "string") throw new Error("async components are not used in fragments");
  return element;
}

/** The one place that decides which fragments each event sends, and to whom. */
export function createBroadcast(bus: Bus) {
  const toChat = (chatId: string, ...parts: JSX.Element[]) =>
    bus.publish(topics.chat(chatId), parts.map(html).join(""));

  return {
    /** A person's chat list, newest activity first, with the chats being answered marked. */
    sidebar(userId: string, chats: Chat[], generating: Set<string>) {
      bus.publish(topics.user(userId), html(ChatNav({ chats, generating, oob: true })));
    },

    /** The person's message and the empty answer appear in every tab on the chat. */
    exchangeStarted(chatId: string, user: Message, assistant: Message, first: boolean) {
      toChat(
        chatId,
        // Only a chat with no message yet shows the empty state (htmx reports a missing target as an error).
        first ? `<div id="empty-state" hx-swap-oob="delete"></div>` : "",
        `<div id="transcript-live" hx-swap-oob="beforeend">${html(MessageArticle({ message: user }))}${html(MessageArticle({ message: assistant }))}</div>`,
        ComposerControls({ chatId, streamingMessageId: assistant.id, oob: true }),
        ComposerStatus({ oob: true }),
      );
    },

    frame(chatId: string, messageId: string, frame: Frame) {
      toChat(
        chatId,
        FrameFragment({ messageId, safeBlocks: frame.newBlocks, tail: frame.tail, reasoning: frame.reasoning }),
      );
    },

    answerRestarted(chat: Chat, message: Message) {
      toChat(
        chat.id,
        MessageArticle({ message, oob: true }),
        ComposerControls({ chatId: chat.id, streamingMessageId: message.id, oob: true }),
        ComposerStatus({ oob: true }),
      );
    },

    /**
     * The branch shown changed from a message on (an edit, a new answer beside an old one, a
     * switch): what left goes from every tab, wherever it was on the page, and the new branch's
     * messages follow what stayed, which all came before them.
     */
    branched(chatId: string, left: string[], shown: ShownMessage[], streamingMessageId?: string) {
      toChat(
        chatId,
        ...left.map((id) => `<article id="msg-${id}" hx-swap-oob="delete"></article>`),
        `<div id="transcript-live" hx-swap-oob="beforeend">${shown.map((m) => html(MessageArticle(m))).join("")}</div>`,
        ComposerControls({ chatId, streamingMessageId, oob: true }),
        ComposerStatus({ oob: true }),
      );
    },

    answerFinished(chat: Chat, message: Message, safeHtml: string, totals: Totals) {
      toChat(
        chat.id,
        MessageArticle({ message, safeHtml, oob: true }),
        ComposerControls({ chatId: chat.id, oob: true }),
        ChatUsage({ totals, oob: true }),
      );
    },

    /** The bar under a chat's header that shows its system prompt and parameters, in every tab on it. */
    settingsChanged(chat: Chat) {
      toChat(chat.id, SettingsSummary({ chat, oob: true }));
    },

    chatRenamed(chat: Chat) {
      toChat(chat.id, ChatTitle({ chat, oob: true }));
    },

    chatDeleted(chatId: string) {
      toChat(
        chatId,
        ComposerStatus({ text: "This chat was deleted.", kind: "error", oob: true }),
        `<div id="composer-controls" hx-swap-oob="true"></div>`,
      );
    },
  };
}
