import { isId } from "../db/ids.ts";
import type { FileInfo } from "../files/types.ts";
import { MAX_MESSAGE_LENGTH } from "../limits.ts";
import { getOwnPreset } from "../presets/repo.ts";
import { getOwnProject } from "../projects/repo.ts";
import { modelRefusal, notAllowed } from "../teams/access.ts";
import type { Answers } from "./answers.ts";
import type { ChatCore } from "./core.ts";
import {
  ChatError,
  END_UNSAVED,
  NO_SUCH_CHAT,
  NO_SUCH_PRESET,
  NO_SUCH_PROJECT,
  STILL_WRITING,
  StillWriting,
  WRITING_RETRY,
} from "./errors.ts";
import { createExchangeWriter, createSendReads } from "./group-commit.ts";
import type { SendPipeline } from "./pipeline.ts";
import { plainText } from "./plain-text.ts";
import { restartMessage } from "./repos/answers.ts";
import { attach, attachmentsOf, ownFiles } from "./repos/attachments.ts";
import { editExchange, regenerateAnswer } from "./repos/branches.ts";
import { createChat, getOwnChat, setWebSearch } from "./repos/chats.ts";
import { getOwnChatForSend, insertExchange } from "./repos/exchange.ts";
import { getOwnMessage } from "./repos/messages.ts";
import type { SendLimits } from "./send-limits.ts";
import { settingsOf } from "./settings.ts";
import type { Shown } from "./shown.ts";
import { fallbackTitle } from "./titles.ts";
import { refuseChange, refuseWhileWriting } from "./writing.ts";

/**
 * What a person does to get an answer: send (in a chat, or to start one), Stop, Retry and
 * Regenerate (the newest answer written again), and Edit (a message sent again with new words,
 * as a new branch). Each saves under the chat's lock and hands the answer to the send pipeline.
 */
export function createExchange(
  core: ChatCore,
  { answers, pipeline, limits, shown }: { answers: Answers; pipeline: SendPipeline; limits: SendLimits; shown: Shown },
) {
  const { db, broadcast, sidebar, config, peers, models } = core;
  const { generations } = answers;
  // Sends arriving together are saved by one statement and one commit (see group-commit.ts).
  const saveExchange = createExchangeWriter(db);
  const readForSend = createSendReads(db);

  /**
   * Refuses, before anything is saved, a model the person's groups do not allow (whatever the
   * form said: the picker offers only allowed ones). The composer keeps the typed text.
   */
  async function refuseForbidden(userId: string, model: string): Promise<void> {
    const refusal = await modelRefusal(db, userId, model);
    if (refusal) throw new ChatError(refusal);
  }

  /** A person's chat, checked that its model is allowed to them. */
  async function allowedChat(userId: string, chatId: string) {
    const chat = await getOwnChat(db, userId, chatId);
    if (!chat) throw new ChatError(NO_SUCH_CHAT);
    await refuseForbidden(userId, chat.model);
    return chat;
  }

  /**
   * The files a send carries, checked before anything is saved: the person's own, no more than a
   * message may carry, and of kinds the chat's model reads. Refused with a sentence otherwise,
   * never dropped silently.
   */
  async function checkAttachments(userId: string, chatId: string, ids: string[]): Promise<FileInfo[]> {
    if (!ids.length) return [];
    if (ids.length > config.maxFilesPerMessage) {
      throw new ChatError(
        `A message can carry at most ${config.maxFilesPerMessage} files; this one has ${ids.length}.`,
      );
    }
    const [files, chat] = await Promise.all([ownFiles(db, userId, ids), getOwnChat(db, userId, chatId)]);
    if (!chat) throw new ChatError(NO_SUCH_CHAT);
    if (files.length < ids.length) {
      throw new ChatError(FILE_GONE);
    }
    if (files.some((f) => f.type.startsWith("image/"))) {
      const model = await models.find(chat.model);
      const reads = model?.inputModalities;
      if (reads && !reads.includes("image")) {
        const can = (await models.list()).filter((m) => m.inputModalities?.includes("image")).map((m) => m.name);
        const offer = can.length
          ? ` Models that can: ${can.slice(0, 3).join(", ")}${can.length > 3 ? `, and ${can.length - 3} more` : ""}.`
          : "";
        throw new ChatError(
          `${model.name} cannot read images: choose a model that can in the model menu, or remove the image.${offer}`,
        );
      }
    }
    return files;
  }

  /** Saves the person's message, shows it everywhere, and starts the answer. */
  /**
   * `rawWebSearch`: the composer's Search the web switch as the form sent it (see switchedOn);
   * undefined leaves the chat's choice as it was.
   */
  async function send(
    userId: string,
    chatId: unknown,
    rawContent: unknown,
    rawAttachments?: unknown,
    rawWebSearch?: unknown,
  ) {
    const ids = attachmentIds(rawAttachments);
    const content = messageText(rawContent, ids.length > 0);
    if (!isId(chatId)) throw new ChatError(NO_SUCH_CHAT);
    const notices = await pipeline.run(userId, chatId, async (admit) => {
      // Another person's chat is refused by the statement below, as one that does not exist.
      if (generations.inChat(chatId)?.userId === userId) refuseWhileWriting(generations, chatId, "send");
      // The chat and its model's allowance, read with the other sends of this moment (group-commit.ts).
      const read = await readForSend(userId, chatId);
      if (!read) throw new ChatError(NO_SUCH_CHAT);
      if (!read.allowed) throw new ChatError(notAllowed(read.chat.model));
      const { chat } = read;
      const files = await checkAttachments(userId, chatId, ids);
      admit();
      // Remembered with the chat: Retry, Regenerate and the next message search as this one did.
      // Written only when it changes (the composer says on or off with every message).
      const webSearch = rawWebSearch === undefined ? chat.webSearch : switchedOn(rawWebSearch);
      if (webSearch !== chat.webSearch) await setWebSearch(db, userId, chatId, webSearch);
      // With files, the message and its files are stored together or not at all.
      const exchange = files.length
        ? await db.transaction(async (tx) => {
            const saved = await insertExchange(tx, userId, chatId, content);
            // Deleted since the check (a chat deleted elsewhere took it along): nothing is kept.
            if (saved && !(await attach(tx, userId, saved.user.id, ids))) throw new ChatError(FILE_GONE);
            return saved;
          })
        : await saveExchange(userId, chatId, content);
      if (!exchange) {
        // Refused, nothing stored: read why (rare, so not worth a read on every send).
        if (await getOwnChatForSend(db, userId, chatId)) throw new StillWriting(STILL_WRITING);
        throw new ChatError(NO_SUCH_CHAT);
      }
      broadcast.exchangeStarted(chatId, exchange.user, exchange.assistant, exchange.history.length === 0, files);
      sidebar.refresh(userId);
      return {
        answer: exchange.assistant,
        history: [...exchange.history, exchange.user],
        webSearch,
        withFiles: files.length > 0,
        unlimited: read.unlimited,
      };
    });
    if (notices.length) broadcast.status(chatId, notices.join(" "), "info");
  }

  return {
    send,

    /** Starts a chat from its first message (the new-chat page posts here). */
    async startChat(
      userId: string,
      rawContent: unknown,
      rawModel: unknown,
      rawPreset?: unknown,
      rawAttachments?: unknown,
      {
        temporary = false,
        project: rawProject,
        webSearch: rawWebSearch,
      }: { temporary?: boolean; project?: unknown; webSearch?: unknown } = {},
    ) {
      const content = messageText(rawContent, attachmentIds(rawAttachments).length > 0);
      // Refused before the chat is made, so a refusal leaves no empty chat behind.
      limits.check(userId);
      // A preset gives the chat its prompt and parameters (its model is the one the page preselected).
      const preset = rawPreset ? await getOwnPreset(db, userId, rawPreset) : undefined;
      if (rawPreset && !preset) throw new ChatError(NO_SUCH_PRESET);
      // A chat started in a project: its instructions go with every answer (pipeline.ts), and
      // without a preset the chat starts from the project's parameters (not its instructions,
      // which stay the project's). Its model is the one the page preselected, the project's.
      const project = rawProject ? await getOwnProject(db, userId, rawProject) : undefined;
      if (rawProject && !project) throw new ChatError(NO_SUCH_PROJECT);
      const model =
        typeof rawModel === "string" && plainText(rawModel).trim()
          ? plainText(rawModel).trim().slice(0, 200)
          : (preset?.model ?? project?.model ?? config.defaultModel);
      await refuseForbidden(userId, model);
      const settings = preset ? settingsOf(preset) : project ? { ...settingsOf(project), systemPrompt: null } : {};
      const chat = await createChat(db, {
        userId,
        title: fallbackTitle(content),
        model,
        temporary,
        projectId: project?.id,
        webSearch: switchedOn(rawWebSearch),
        ...settings,
      });
      await send(userId, chat.id, content, rawAttachments);
      return chat;
    },

    /**
     * Stop: aborts the upstream request; the answer keeps what streamed, as `stopped`. An answer
     * another instance writes is stopped there, asked over the bus.
     */
    async stop(userId: string, messageId: unknown) {
      const g = isId(messageId) ? generations.get(messageId) : undefined;
      if (g?.userId === userId) {
        if (g.ending) throw new ChatError(END_UNSAVED);
        generations.stop(g.messageId);
        return;
      }
      if (!g && peers) {
        const message = await getOwnMessage(db, userId, messageId);
        if (message?.status === "streaming") return broadcast.stopElsewhere(message.id, userId);
      }
      throw new ChatError("There is no answer being written to stop.");
    },

    /**
     * Retry and Regenerate: writes an answer again. A finished one, or one with messages after
     * it, is kept and the new one written beside it, one switch away; the newest answer when it
     * failed, stopped or was interrupted is written again in its place.
     */
    async retry(userId: string, messageId: unknown) {
      // An answer still written (or saved) here is refused before the database is asked, which may be away.
      const live = isId(messageId) ? generations.get(messageId) : undefined;
      if (live?.userId === userId) refuseWhileWriting(generations, live.chatId, "retry");
      const message = await getOwnMessage(db, userId, messageId);
      if (message?.role !== "assistant") throw new ChatError("There is no such answer.");
      await pipeline.run(userId, message.chatId, async (admit) => {
        const found = await getOwnChatForSend(db, userId, message.chatId);
        if (!found) throw new ChatError(NO_SUCH_CHAT);
        const { chat } = found;
        refuseWhileWriting(generations, chat.id, "retry");
        if (found.streaming) throw new StillWriting(WRITING_RETRY);
        if (!found.history.some((m) => m.id === message.id)) {
          throw new ChatError("That answer is no longer shown; it is on another branch.");
        }
        await refuseForbidden(userId, chat.model);
        admit();
        // An answer with messages after it is written again as a new branch from its question,
        // as a finished one is: the messages after it stay, one switch away.
        if (message.status === "complete" || found.history.at(-1)?.id !== message.id) {
          const branch = await regenerateAnswer(db, chat.id, message.id, chat.model);
          if (!branch) throw new ChatError("That answer is already being written.");
          const show = await shown.withSiblings(chat.id, [branch.assistant]);
          broadcast.branched(chat.id, branch.left, [show(branch.assistant)], branch.assistant.id);
          sidebar.refresh(userId);
          return { answer: branch.assistant, history: branch.history };
        }
        const fresh = await restartMessage(db, message.id, chat.model);
        if (!fresh) throw new ChatError("That answer is already being written.");
        const show = await shown.withSiblings(chat.id, [fresh]);
        broadcast.answerRestarted(chat, show(fresh));
        sidebar.refresh(userId);
        return { answer: fresh, history: found.history };
      });
    },

    /**
     * Sends a person's message again with new words: a new branch from that point, with a new
     * answer; the old message and what followed it stay, one switch away.
     */
    async edit(userId: string, messageId: unknown, rawContent: unknown) {
      const message = await getOwnMessage(db, userId, messageId);
      if (message?.role !== "user") throw new ChatError("There is no such message.");
      // Its files are read only when the new words are none (a message may be files alone).
      const content = messageText(rawContent, true);
      if (!content && !(await attachmentsOf(db, [message.id])).has(message.id)) throw new ChatError(NO_WORDS);
      if (!message.active) throw new ChatError("That message is no longer shown; it is on another branch.");
      await pipeline.run(userId, message.chatId, async (admit) => {
        refuseWhileWriting(generations, message.chatId, "edit");
        await allowedChat(userId, message.chatId);
        admit();
        const branch = await editExchange(db, userId, message.id, content);
        if (!branch) return refuseChange(db, userId, message.chatId, "edit");
        const show = await shown.withSiblings(message.chatId, [branch.user, branch.assistant]);
        broadcast.branched(
          message.chatId,
          branch.left,
          [show(branch.user), show(branch.assistant)],
          branch.assistant.id,
        );
        sidebar.refresh(userId);
        return { answer: branch.assistant, history: [...branch.history, branch.user] };
      });
    },
  };
}

const NO_WORDS = "Write a message first.";
const FILE_GONE = "One of the attached files is no longer there: remove it, attach it again, then send.";

/** The file ids a send names (one form field, or several of the same name), each once. */
/**
 * A switch as a form sends it: a hidden "off" then the checkbox's "on" when it is checked, so the
 * field is there either way (htmx sends repeated names as a list).
 */
function switchedOn(raw: unknown): boolean {
  return raw === true || raw === "on" || (Array.isArray(raw) && raw.includes("on"));
}

function attachmentIds(raw: unknown): string[] {
  const list = Array.isArray(raw) ? raw : raw === undefined || raw === "" ? [] : [raw];
  if (list.some((id) => !isId(id))) {
    throw new ChatError(FILE_GONE);
  }
  return [...new Set(list as string[])];
}

/**
 * A message as typed, made plain and checked: refused with a sentence when too long, or when
 * empty unless files go with it (a screenshot can be the whole question).
 */
function messageText(raw: unknown, withFiles: boolean): string {
  const content = typeof raw === "string" ? plainText(raw).trim() : "";
  if (!content && !withFiles) throw new ChatError(NO_WORDS);
  if (content.length > MAX_MESSAGE_LENGTH) {
    throw new ChatError(
      `That message is ${content.length.toLocaleString("en")} characters long; the limit is ${MAX_MESSAGE_LENGTH.toLocaleString("en")}.`,
    );
  }
  return content;
}
