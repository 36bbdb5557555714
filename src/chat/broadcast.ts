import { AnswerImages } from "../../views/components/attachments.tsx";
import { SettingsSummary } from "../../views/components/chat-settings.tsx";
import { ComposerControls, ComposerStatus } from "../../views/components/composer.tsx";
import { FrameFragment, MessageArticle, RetryingNotice } from "../../views/components/message.tsx";
import { ChatProject } from "../../views/components/projects.tsx";
import { ServiceStatus } from "../../views/components/service-status.tsx";
import { ChatNav, ProjectGroups } from "../../views/components/sidebar.tsx";
import { SpendingNotice } from "../../views/components/spending.tsx";
import { ToolStepView } from "../../views/components/tool-steps.tsx";
import { ChatTitle, ChatUsage, type Totals } from "../../views/pages/chat.tsx";
import type { Chat, Message, Project } from "../db/schema.ts";
import type { FileInfo } from "../files/types.ts";
import type { Frame, LiveAnswer } from "../llm/live-answer.ts";
import type { ProjectGroup } from "../projects/types.ts";
import type { Allowance } from "../teams/limits-words.ts";
import type { ToolStep } from "../tools/types.ts";
import type { Delta } from "./mirrors.ts";
import type { ChatList, ShownMessage } from "./types.ts";

/**
 * Carries rendered fragments to this process's sockets subscribed to a topic (Bun's pub/sub).
 * `watched` says whether any is, so work only they would see can be skipped.
 */
export type Bus = { publish(topic: string, html: string): void; watched(topic: string): boolean };

/**
 * What instances sharing one Postgres tell each other (see bus/notify.ts), so a tab sees the same
 * whichever instance it is connected to. Fragments whose HTML is the same everywhere travel as
 * HTML; an answer's words travel as text, which each instance renders for its own tabs (see
 * mirrors.ts); a chat list is read afresh by each instance with a tab that shows it.
 */
export type PeerEvent =
  | { kind: "html"; topic: string; html: string; ended?: string }
  | ({ kind: "delta" } & Delta)
  | { kind: "stop"; messageId: string; userId: string }
  /** A person's Approve or Deny of a tool call, for the instance writing the answer. */
  | { kind: "tool"; messageId: string; userId: string; stepId: string; approved: boolean }
  | { kind: "sidebar"; userId: string }
  /** Sessions that ended (signed out, password changed, account deleted): their tabs everywhere close. */
  | { kind: "sessions"; ids: string[] };

export type Peers = { send(event: PeerEvent): void };

/**
 * Who hears what: a chat's events go to the tabs open on it (a socket subscribes only after the
 * chat is found to be its person's); a person's chat list goes to all their tabs and nobody else's.
 */
export const topics = {
  chat: (chatId: string) => `chat:${chatId}`,
  user: (userId: string) => `user:${userId}`,
  /** Every tab on this instance: what it says about the whole service (the database is away). */
  site: "site",
  /** The chat a topic is about, if it is a chat's. */
  chatOf: (topic: string) => (topic.startsWith("chat:") ? topic.slice(5) : undefined),
};

/** Our components are synchronous; kitajs would hand back a Promise only for async ones. */
export function html(element: JSX.Element): string {
  if (typeof element !== "string") throw new Error("async components are not used in fragments");
  return element;
}

/** The status line an answer's place shows while its request waits to be tried again. */
export function retryingNotice(event: Parameters<typeof RetryingNotice>[0]): string {
  return html(RetryingNotice(event));
}

/** Tells every tab on this instance whether the service is impaired (`text`), or no longer (none). */
export function serviceStatus(bus: Bus, text: string | undefined) {
  bus.publish(topics.site, html(ServiceStatus({ text, oob: true })));
}

/** The one place that decides which fragments each event sends, and to whom, here and on other instances. */
export function createBroadcast(bus: Bus, peers?: Peers) {
  /** `ended`: the answer the writer is done with (finished, or about to be written again from its start). */
  const toChat = (chatId: string, parts: JSX.Element[], ended?: string) => {
    const topic = topics.chat(chatId);
    const joined = parts.map(html).join("");
    bus.publish(topic, joined);
    peers?.send({ kind: "html", topic, html: joined, ended });
  };

  return {
    /** A person's chat list, newest activity first, with the chats being answered marked (this instance's tabs). */
    sidebar(userId: string, list: ChatList, groups: ProjectGroup[]) {
      bus.publish(
        topics.user(userId),
        html(ChatNav({ ...list, oob: true })) + html(ProjectGroups({ groups, oob: true })),
      );
    },

    /** Other instances read the person's chat list again for their tabs. */
    sidebarChanged(userId: string) {
      peers?.send({ kind: "sidebar", userId });
    },

    /** The person's message and the empty answer appear in every tab on the chat. */
    exchangeStarted(chatId: string, user: Message, assistant: Message, first: boolean, attachments: FileInfo[] = []) {
      toChat(chatId, [
        // Only a chat with no message yet shows the empty state (htmx reports a missing target as an error).
        first ? `<div id="empty-state" hx-swap-oob="delete"></div>` : "",
        `<div id="transcript-live" hx-swap-oob="beforeend">${html(MessageArticle({ message: user, attachments }))}${html(MessageArticle({ message: assistant }))}</div>`,
        ComposerControls({ chatId, streamingMessageId: assistant.id, oob: true }),
        ComposerStatus({ oob: true }),
      ]);
    },

    /** New words of an answer this instance writes: rendered for its tabs, as text for other instances. */
    frame(g: LiveAnswer & { chatId: string; messageId: string }, frame: Frame) {
      this.mirrorFrame(g.chatId, g.messageId, frame);
      peers?.send({
        kind: "delta",
        chatId: g.chatId,
        messageId: g.messageId,
        at: g.md.text.length - frame.text.length,
        text: frame.text,
        reasoningAt: g.reasoning.length - frame.reasoning.length,
        reasoning: frame.reasoning,
        notice: frame.notice,
      });
    },

    /** A frame for this instance's tabs only (of an answer written here, or mirrored from another instance). */
    mirrorFrame(chatId: string, messageId: string, frame: Frame) {
      bus.publish(
        topics.chat(chatId),
        html(
          FrameFragment({
            messageId,
            safeBlocks: frame.newBlocks,
            tail: frame.tail,
            reasoning: frame.reasoning,
            thinkingMs: frame.thinkingMs,
          }),
        ),
      );
    },

    /** An answer another instance writes, whole as it stands, for this instance's tabs (a mirror just caught up). */
    mirrorWhole(message: Message, live: LiveAnswer) {
      bus.publish(
        topics.chat(message.chatId),
        html(
          MessageArticle({
            message,
            live: live.shown(),
            oob: true,
          }),
        ),
      );
    },

    /** Passes a person's Approve or Deny of a tool call to the instance writing the answer. */
    decideElsewhere(messageId: string, userId: string, stepId: string, approved: boolean) {
      peers?.send({ kind: "tool", messageId, userId, stepId, approved });
    },

    /** Asks the instance writing an answer to stop it. */
    stopElsewhere(messageId: string, userId: string) {
      peers?.send({ kind: "stop", messageId, userId });
    },

    answerRestarted(chat: Chat, answer: ShownMessage) {
      toChat(
        chat.id,
        [
          MessageArticle({ ...answer, oob: true }),
          ComposerControls({ chatId: chat.id, streamingMessageId: answer.message.id, oob: true }),
          ComposerStatus({ oob: true }),
        ],
        answer.message.id,
      );
    },

    /**
     * The branch shown changed from a message on (an edit, a new answer beside an old one, a
     * switch): what left goes from every tab, wherever it was on the page, and the new branch's
     * messages follow what stayed, which all came before them.
     */
    branched(chatId: string, left: string[], shown: ShownMessage[], streamingMessageId?: string) {
      toChat(chatId, [
        ...left.map((id) => `<article id="msg-${id}" hx-swap-oob="delete"></article>`),
        `<div id="transcript-live" hx-swap-oob="beforeend">${shown.map((m) => html(MessageArticle(m))).join("")}</div>`,
        ComposerControls({ chatId, streamingMessageId, oob: true }),
        ComposerStatus({ oob: true }),
      ]);
    },

    /** An answer's images as they stand, while it is written: each new one shows in every tab. */
    answerImages(chatId: string, messageId: string, files: FileInfo[]) {
      toChat(chatId, [AnswerImages({ messageId, files, oob: true })]);
    },

    /**
     * An answer ended, shown whole with its files and its place among its versions (a regenerated
     * answer keeps its ‹ 2 / 2 ›). `clearStatus`: the composer said the end was not saved yet; now it is.
     */
    answerFinished(chat: Chat, answer: ShownMessage, totals: Totals, clearStatus = false) {
      toChat(
        chat.id,
        [
          MessageArticle({ ...answer, oob: true }),
          ComposerControls({ chatId: chat.id, oob: true }),
          ChatUsage({ totals, oob: true }),
          clearStatus ? ComposerStatus({ oob: true }) : "",
        ],
        answer.message.id,
      );
    },

    /** What is left of the person's spending limits, near the composer in all their tabs (here and elsewhere). */
    spending(userId: string, allowances: Allowance[]) {
      const topic = topics.user(userId);
      const fragment = html(SpendingNotice({ allowances, oob: true }));
      bus.publish(topic, fragment);
      peers?.send({ kind: "html", topic, html: fragment });
    },

    /** A tool call of an answer, new (added after the others) or changed, in every tab on the chat. */
    toolStep(chatId: string, messageId: string, step: ToolStep, added: boolean) {
      const view = ToolStepView({ messageId, step, oob: !added });
      toChat(chatId, [added ? `<div id="msg-${messageId}-steps" hx-swap-oob="beforeend">${html(view)}</div>` : view]);
    },

    /** A sentence beside the composer in every tab on the chat. */
    status(chatId: string, text: string, kind: "info" | "error" = "info") {
      toChat(chatId, [ComposerStatus({ text, kind, oob: true })]);
    },

    /** The bar under a chat's header that shows its system prompt and parameters, in every tab on it. */
    settingsChanged(chat: Chat) {
      toChat(chat.id, [SettingsSummary({ chat, oob: true })]);
    },

    chatRenamed(chat: Chat) {
      toChat(chat.id, [ChatTitle({ chat, oob: true })]);
    },

    /** The chat went into a project or out of one: the line under its title, in every tab on it. */
    chatMoved(chatId: string, project: (Pick<Project, "id" | "name"> & { files?: number }) | null) {
      toChat(chatId, [ChatProject({ project, oob: true })]);
    },

    chatDeleted(chatId: string) {
      toChat(chatId, [
        ComposerStatus({ text: "This chat was deleted.", kind: "error", oob: true }),
        `<div id="composer-controls" hx-swap-oob="true"></div>`,
      ]);
    },
  };
}
