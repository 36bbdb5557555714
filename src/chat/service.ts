import { RateLimit, tryAgainIn } from "../auth/limits.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { isUnavailable, withDeadline } from "../db/errors.ts";
import type { Chat, Message } from "../db/schema.ts";
import { MAX_MESSAGE_LENGTH } from "../limits.ts";
import { fitToContext } from "../llm/context.ts";
import {
  type Generation,
  type GenerationMetrics,
  Generations,
  type GenerationTiming,
  type Outcome,
} from "../llm/generations.ts";
import type { ChatTurn, Model, Upstream } from "../llm/openrouter.ts";
import type { Logger } from "../log.ts";
import { getOwnPreset, listPresets } from "../presets/repo.ts";
import { type Bus, createBroadcast, type PeerEvent, type Peers, retryingNotice, topics } from "./broadcast.ts";
import { renderMarkdown } from "./markdown.ts";
import { Mirrors } from "./mirrors.ts";
import { plainText } from "./plain-text.ts";
import * as repo from "./repo.ts";
import { answerParams, parseSettings, settingsOf } from "./settings.ts";
import type { ShownMessage } from "./types.ts";

export const PAGE_SIZE = 50;
/** The most messages a chat page shows when opened at an older message. */
const OPEN_AT_LIMIT = 1000;
const MODELS_TTL_MS = 60 * 60 * 1000;
const MODELS_RETRY_MS = 60 * 1000;
export const NO_SUCH_PRESET = "There is no such preset; it may have been deleted.";
const STILL_WRITING = "An answer is still being written: wait for it, or press Stop, then send.";
/** The longest an answer's own write may take before it is taken as failed and tried again. */
const WRITE_DEADLINE_MS = 15_000;
const WRITING_RETRY = "An answer is still being written: wait for it, or press Stop first.";
/** What every action on a chat says while its last answer has ended but could not be saved yet. */
export const END_UNSAVED =
  "The last answer is not saved yet: the database is not answering, and Parley keeps trying. Wait a moment, then try again.";

/** A refusal the person can act on; shown next to the composer. */
export class ChatError extends Error {}

export type ChatServiceDeps = {
  database: Database;
  upstream: Upstream;
  bus: Bus;
  /** Other instances on the same Postgres; none on the embedded database. */
  peers?: Peers;
  config: Config;
  log: Logger;
  timing?: GenerationTiming;
  metrics?: GenerationMetrics;
};

/** Everything a person can do with chats; routes and the socket call this, never the repo. */
export function createChatService({ database, upstream, bus, peers, config, log, timing, metrics }: ChatServiceDeps) {
  const { db } = database;
  const broadcast = createBroadcast(bus, peers);
  const sends = new RateLimit(config.sendsPerMinute, 60_000);

  /**
   * Abuse limits, checked before anything is saved: messages per minute, and answers being
   * written at once (each costs the owner's credits and holds an upstream connection).
   */
  // Answers accepted but not yet handed to `generations` (the history is being read): they
  // count against the limit too, or two quick sends would both slip under it.
  const starting = new Map<string, number>();
  /** Counts a send against the person's limits; the function it returns ends the "starting" hold. */
  function admit(userId: string): () => void {
    refuseOverLimits(userId);
    sends.hit(userId);
    starting.set(userId, (starting.get(userId) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (starting.get(userId) ?? 1) - 1;
      if (n > 0) starting.set(userId, n);
      else starting.delete(userId);
    };
  }

  function refuseOverLimits(userId: string) {
    const wait = sends.wait(userId);
    if (wait > 0) {
      throw new ChatError(
        `You have sent ${config.sendsPerMinute} messages in the last minute; try again ${tryAgainIn(wait)}.`,
      );
    }
    if (generations.countFor(userId) + (starting.get(userId) ?? 0) >= config.maxConcurrentAnswers) {
      throw new ChatError(
        `You have ${config.maxConcurrentAnswers} answers being written already; wait for one to finish, or stop one.`,
      );
    }
  }

  // Per-chat critical sections: a database change and the event announcing it happen together,
  // so a tab resynchronising reads either both or neither (no duplicate, no gap).
  const locks = new Map<string, Promise<unknown>>();
  function withChatLock<T>(chatId: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(chatId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => {});
    locks.set(chatId, settled);
    void settled.then(() => {
      if (locks.get(chatId) === settled) locks.delete(chatId);
    });
    return run;
  }

  const generations: Generations = new Generations(
    upstream,
    {
      frame: (g, frame) => broadcast.frame(g, frame),
      save: (batch) => withDeadline(repo.saveProgress(db, batch), WRITE_DEADLINE_MS, "a progress save"),
      end: (g, outcome) => endAnswer(g, outcome),
      endDelayed: (g) => broadcast.status(g.chatId, END_UNSAVED, "error"),
      outage: isUnavailable,
      retrying: retryingNotice,
    },
    log,
    timing,
    metrics,
  );

  /** Answers other instances are writing, followed for this instance's tabs. */
  const mirrors = new Mirrors({
    read: (messageId) => repo.getMessage(db, messageId),
    lock: (chatId, fn) => withChatLock(chatId, fn),
    frame: (chatId, messageId, frame) => broadcast.mirrorFrame(chatId, messageId, frame),
    whole: (message, live) => broadcast.mirrorWhole(message, live),
  });

  /**
   * Events from other instances, in the order each sent them. A chat's go through its critical
   * section, like this instance's own, so a tab resynchronising here gets each exactly once.
   */
  function receive(events: PeerEvent[]) {
    for (const e of events) {
      switch (e.kind) {
        case "html": {
          const chatId = topics.chatOf(e.topic);
          if (!chatId) bus.publish(e.topic, e.html);
          else {
            void withChatLock(chatId, async () => {
              if (e.ended) mirrors.end(e.ended);
              bus.publish(e.topic, e.html);
            });
          }
          break;
        }
        case "delta":
          // Checked before the chat's lock: most words are for chats no tab here shows.
          if (bus.watched(topics.chat(e.chatId))) void withChatLock(e.chatId, async () => mirrors.apply(e));
          else mirrors.drop(e.messageId);
          break;
        case "stop": {
          const g = generations.get(e.messageId);
          if (g?.userId === e.userId) generations.stop(g.messageId);
          break;
        }
        case "sidebar":
          refreshSidebarHere(e.userId);
          break;
      }
    }
  }

  /** Saves an answer's end and shows it; run again as a whole when it fails, so each step may repeat. */
  async function endAnswer(g: Generation, outcome: Outcome) {
    const safeHtml = renderMarkdown(g.md.text);
    const firstAnswer = await withChatLock(g.chatId, async () => {
      const finishing = repo.finishMessage(db, g.messageId, {
        status: outcome.status,
        ...g.unsaved(true),
        html: safeHtml,
        error: outcome.error ?? null,
        finishReason: outcome.finishReason ?? null,
        promptTokens: outcome.usage?.promptTokens ?? null,
        completionTokens: outcome.usage?.completionTokens ?? null,
        reasoningTokens: outcome.usage?.reasoningTokens ?? null,
        cachedTokens: outcome.usage?.cachedTokens ?? null,
        cost: outcome.usage?.cost ?? null,
      });
      const message = await withDeadline(finishing, WRITE_DEADLINE_MS, "saving an answer's end");
      const found = await withDeadline(repo.chatWithTotals(db, g.chatId), WRITE_DEADLINE_MS, "reading a chat's totals");
      generations.forget(g.messageId);
      if (!message || !found) return undefined; // the chat was deleted meanwhile
      broadcast.answerFinished(found.chat, message, safeHtml, found.totals, g.endFailures > 0);
      refreshSidebar(found.chat.userId);
      return outcome.status === "complete" && g.first ? { chat: found.chat, message } : undefined;
    });
    if (firstAnswer) void nameChat(firstAnswer.chat, firstAnswer.message);
  }

  /** After the first exchange, asks the model for a short title, keeping the fallback on failure. */
  async function nameChat(chat: Chat, answer: Message) {
    const turns = await repo.conversation(db, chat.id);
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
      await withChatLock(chat.id, async () => {
        const current = await repo.getChat(db, chat.id);
        if (!current?.userId || current.title !== chat.title) return; // renamed by the person meanwhile
        const renamed = await repo.updateChat(db, current.userId, chat.id, { title });
        if (renamed) broadcast.chatRenamed(renamed);
        refreshSidebar(current.userId);
      });
    } catch (err) {
      log.debug("title generation failed", { chatId: chat.id, error: err });
    }
  }

  /** The conversation before `answer`, fitted to the model's context, sent upstream. */
  async function startAnswer(userId: string, answer: Message, history: repo.Turn[]) {
    const before = history.filter((m) => m.id < answer.id);
    const sendable = (m: repo.Turn) =>
      m.content && (m.role !== "assistant" || ["complete", "stopped"].includes(m.status));
    const turns: ChatTurn[] = before.filter(sendable).map((m) => ({ role: m.role, content: m.content }));
    const [list, settings] = await Promise.all([models(), repo.chatSettings(db, answer.chatId)]);
    const model = list.find((m) => m.id === answer.model);
    // The chat's system prompt goes first; fitToContext never drops it.
    const prompt: ChatTurn[] = settings?.systemPrompt ? [{ role: "system", content: settings.systemPrompt }] : [];
    const messages = fitToContext([...prompt, ...turns], model?.contextLength);
    const first = before.length === 1;
    generations.start({
      userId,
      chatId: answer.chatId,
      messageId: answer.id,
      first,
      // An answer is always stored with the model it is written by.
      model: answer.model!,
      messages,
      params: settings ? answerParams(settings, model) : {},
    });
  }

  /** A message as shown: cached HTML for a finished answer, the live state for one being written. */
  function show(message: Message): ShownMessage {
    if (message.role !== "assistant") return { message };
    if (message.status === "streaming") {
      const g = generations.get(message.id) ?? mirrors.get(message.id);
      if (g) return { message, live: { safeBlocks: g.md.blocks, safeTail: g.tail, reasoning: g.reasoning } };
      const safeTail = message.content ? renderMarkdown(message.content) : "";
      return { message, live: { safeBlocks: [], safeTail, reasoning: message.reasoning ?? "" } };
    }
    return { message, safeHtml: message.html ?? renderMarkdown(message.content) };
  }

  /** When this process last failed to renew its leases (it could not reach the database). */
  let leaseTroubleAt = 0;
  /**
   * Every few seconds this process vouches for the answers it is writing (a lease in the
   * database), and ends as interrupted, text kept, any answer nobody vouches for: one whose
   * process was killed, froze or lost the database, here or in another instance sharing it.
   */
  async function keepLeases() {
    mirrors.sweep();
    try {
      await generations.betweenSaves(async () => {
        const mine = generations.ids();
        if (mine.length) await withDeadline(repo.renewLeases(db, mine), WRITE_DEADLINE_MS, "renewing leases");
      });
    } catch (err) {
      leaseTroubleAt = Date.now();
      throw err;
    }
    // After an outage every instance's leases ran out together: give their writers one lease to
    // vouch for them again (and save their ends) before taking any as abandoned.
    if (Date.now() - leaseTroubleAt < repo.LEASE_SECONDS * 1000) return;
    for (const m of await repo.expiredAnswers(db)) {
      // Ours after all (this process stalled past its lease): vouch for it again.
      if (generations.get(m.id)) continue;
      await withChatLock(m.chatId, async () => {
        const safeHtml = renderMarkdown(m.content);
        const ended = await repo.interruptExpired(db, m.id, safeHtml);
        const found = ended && (await repo.chatWithTotals(db, m.chatId));
        if (!ended || !found) return; // another process ended it first, or the chat is gone
        log.warn("answer abandoned by its writer marked interrupted", { messageId: m.id });
        broadcast.answerFinished(found.chat, ended, safeHtml, found.totals);
        refreshSidebar(found.chat.userId);
      });
    }
  }
  const leaseTimer = setInterval(
    () => {
      keepLeases().catch((err) => log.warn("could not keep answer leases", { error: err }));
    },
    (repo.LEASE_SECONDS * 1000) / 3,
  );
  leaseTimer.unref();

  /** Refuses an action while an answer in the chat is being written here, or its end is not saved yet. */
  function refuseWhileWriting(chatId: string, then: "send" | "retry" | "edit" | "switch") {
    const live = generations.inChat(chatId);
    if (!live) return;
    if (live.ending) throw new ChatError(END_UNSAVED);
    if (then === "send") throw new ChatError(STILL_WRITING);
    if (then === "retry") throw new ChatError(WRITING_RETRY);
    throw new ChatError(`An answer is still being written: wait for it, or press Stop, then ${then}.`);
  }

  /**
   * Why an edit or a switch was refused under the chat's lock: an answer started (a send's
   * answer starts just after its lock), or another tab moved the chat to another branch.
   */
  async function refuseChange(userId: string, chatId: string, what: "edit" | "switch"): Promise<never> {
    if ((await repo.getOwnChatForSend(db, userId, chatId))?.streaming) {
      throw new ChatError(`An answer is still being written: wait for it, or press Stop, then ${what}.`);
    }
    throw new ChatError(`That changed meanwhile in another tab: look again, then ${what}.`);
  }

  /** Shown messages with their place among siblings (‹ 2 / 3 ›), for those that have any. */
  async function siblingsFor(chatId: string, rows: Message[]): Promise<(message: Message) => ShownMessage> {
    const siblings = await repo.siblingsOf(
      db,
      chatId,
      rows.map((m) => m.id),
    );
    return (message) => ({ ...show(message), siblings: siblings.get(message.id) });
  }

  const sidebar = (userId: string) => repo.chatList(db, userId);

  /**
   * Pushes a person's chat list to their tabs after each change it shows. A person's refreshes
   * run one after another, each reading afresh, so the last one pushed is never older than the
   * last change. They run in two lanes (a person always in the same one), so under a burst of
   * answers they take at most two database connections and never crowd out the sends.
   */
  const sidebarLanes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  // A refresh queued and not yet started will read the newest state: a second one would repeat it.
  const sidebarWaiting = new Set<string>();
  function refreshSidebar(userId: string | null) {
    if (!userId) return;
    broadcast.sidebarChanged(userId);
    refreshSidebarHere(userId);
  }
  /** The refresh for this instance's tabs; none is read when no tab here shows the person's list. */
  function refreshSidebarHere(userId: string) {
    if (sidebarWaiting.has(userId) || !bus.watched(topics.user(userId))) return;
    sidebarWaiting.add(userId);
    const lane = userId.charCodeAt(userId.length - 1) % sidebarLanes.length;
    sidebarLanes[lane] = sidebarLanes[lane]!.then(async () => {
      sidebarWaiting.delete(userId);
      try {
        const { chats, generating } = await sidebar(userId);
        broadcast.sidebar(userId, chats, generating);
      } catch (err) {
        log.warn("could not refresh the chat list", { error: err });
      }
    });
  }

  let modelCache: { until: number; models: Model[] } | undefined;
  let modelFetch: Promise<Model[]> | undefined;

  /**
   * The upstream's models, cached for an hour. A stale list is served while a fresh one is
   * fetched; in an outage the last good list (or DEFAULT_MODEL alone) is kept and the upstream
   * is asked again a minute later, so no page waits on a dead upstream twice.
   */
  async function models(): Promise<Model[]> {
    const fallback = [{ id: config.defaultModel, name: config.defaultModel, contextLength: null }];
    if (modelCache && Date.now() < modelCache.until) return modelCache.models;
    modelFetch ??= upstream
      .models()
      .then((models) => {
        modelCache = { until: Date.now() + MODELS_TTL_MS, models: models.length ? models : fallback };
        return modelCache.models;
      })
      .catch((err) => {
        log.warn("could not fetch the model list", { error: err });
        modelCache = { until: Date.now() + MODELS_RETRY_MS, models: modelCache?.models ?? fallback };
        return modelCache.models;
      })
      .finally(() => {
        modelFetch = undefined;
      });
    if (modelCache) return modelCache.models;
    return Promise.race([modelFetch, Bun.sleep(1500).then(() => fallback)]);
  }

  return {
    generations,

    sidebar,

    /** Pushes the person's chat list to their tabs (after chats were added elsewhere, such as an import). */
    refreshSidebar,

    receive,

    /** Events from other instances may have been missed: tabs are about to reconnect and read afresh. */
    forgetMirrors: () => mirrors.clear(),

    getChat: (userId: string, id: unknown) => repo.getOwnChat(db, userId, id),

    /** The chat page's data: the newest page of messages, live ones as they stand. */
    /**
     * A chat as its page shows it: the newest messages or, opened `at` a message (a search
     * result), everything from that message on, so the live part still ends with the newest.
     */
    async openChat(userId: string, id: string, at?: unknown) {
      const found = await repo.chatWithTotals(db, id, userId);
      if (!found) return undefined;
      const page = await repo.listMessages(db, found.chat.id, { limit: PAGE_SIZE });
      if (repo.isId(at) && page.hasOlder && at < page.messages[0]!.id) {
        const since = await repo.listMessagesSince(db, found.chat.id, at, OPEN_AT_LIMIT + 1);
        // Further back than that, the newest page it is: a live page must end with the newest.
        if (since[0]?.id === at && since.length <= OPEN_AT_LIMIT) {
          const shown = await siblingsFor(found.chat.id, since);
          return {
            ...found,
            messages: since.map(shown),
            hasOlder: await repo.hasMessagesBefore(db, found.chat.id, at),
          };
        }
      }
      const shown = await siblingsFor(found.chat.id, page.messages);
      return { ...found, messages: page.messages.map(shown), hasOlder: page.hasOlder };
    },

    async olderMessages(userId: string, chatId: string, before: string) {
      if (!repo.isId(before) || !(await repo.getOwnChat(db, userId, chatId))) return undefined;
      const page = await repo.listMessages(db, chatId, { before, limit: PAGE_SIZE });
      const shown = await siblingsFor(chatId, page.messages);
      return { messages: page.messages.map(shown), hasOlder: page.hasOlder };
    },

    /**
     * What a (re)connecting tab needs: every message from `since` on, as it stands now. Taken
     * under the chat's lock and snapshotted synchronously before `deliver`, so it fits exactly
     * between the events the socket already got and the frames that follow.
     */
    resync(
      chatId: string,
      since: string | undefined,
      deliver: (messages: ShownMessage[], streamingId?: string) => void,
    ) {
      return withChatLock(chatId, async () => {
        // Without `since` the page showed no message: send the newest page, as the page would.
        const rows = repo.isId(since)
          ? await repo.listMessagesSince(db, chatId, since, 1000)
          : (await repo.listMessages(db, chatId, { limit: PAGE_SIZE })).messages;
        const streaming = rows.find((m) => m.status === "streaming");
        const shown = await siblingsFor(chatId, rows);
        deliver(rows.map(shown), streaming?.id);
      });
    },

    /** Saves the person's message, shows it everywhere, and starts the answer. */
    async send(userId: string, chatId: unknown, rawContent: unknown) {
      const content = messageText(rawContent);
      if (!repo.isId(chatId)) throw new ChatError("This chat does not exist; it may have been deleted.");
      let release: (() => void) | undefined;
      try {
        const started = await withChatLock(chatId, async () => {
          // Another person's chat is refused by the statement below, as one that does not exist.
          if (generations.inChat(chatId)?.userId === userId) refuseWhileWriting(chatId, "send");
          release = admit(userId);
          const exchange = await repo.insertExchange(db, userId, chatId, content);
          if (!exchange) {
            // Refused, nothing stored: read why (rare, so not worth a read on every send).
            if (await repo.getOwnChatForSend(db, userId, chatId)) throw new ChatError(STILL_WRITING);
            throw new ChatError("This chat does not exist; it may have been deleted.");
          }
          broadcast.exchangeStarted(chatId, exchange.user, exchange.assistant, exchange.history.length === 0);
          refreshSidebar(userId);
          return { ...exchange, history: [...exchange.history, exchange.user] };
        });
        await startAnswer(userId, started.assistant, started.history);
      } finally {
        release?.();
      }
    },

    /** Starts a chat from its first message (the new-chat page posts here). */
    async startChat(userId: string, rawContent: unknown, rawModel: unknown, rawPreset?: unknown) {
      const content = messageText(rawContent);
      // Refused before the chat is made, so a refusal leaves no empty chat behind.
      refuseOverLimits(userId);
      // A preset gives the chat its prompt and parameters (its model is the one the page preselected).
      const preset = rawPreset ? await getOwnPreset(db, userId, rawPreset) : undefined;
      if (rawPreset && !preset) throw new ChatError(NO_SUCH_PRESET);
      const model =
        typeof rawModel === "string" && plainText(rawModel).trim()
          ? plainText(rawModel).trim().slice(0, 200)
          : (preset?.model ?? config.defaultModel);
      const settings = preset ? settingsOf(preset) : {};
      const chat = await repo.createChat(db, { userId, title: fallbackTitle(content), model, ...settings });
      await this.send(userId, chat.id, content);
      return chat;
    },

    /**
     * Stop: aborts the upstream request; the answer keeps what streamed, as `stopped`. An answer
     * another instance writes is stopped there, asked over the bus.
     */
    async stop(userId: string, messageId: unknown) {
      const g = repo.isId(messageId) ? generations.get(messageId) : undefined;
      if (g?.userId === userId) {
        if (g.ending) throw new ChatError(END_UNSAVED);
        generations.stop(g.messageId);
        return;
      }
      if (!g && peers) {
        const message = await repo.getOwnMessage(db, userId, messageId);
        if (message?.status === "streaming") return broadcast.stopElsewhere(message.id, userId);
      }
      throw new ChatError("There is no answer being written to stop.");
    },

    /** Writes the chat's newest answer again (after an error, a Stop, or to get another). */
    async retry(userId: string, messageId: unknown) {
      // An answer still written (or saved) here is refused before the database is asked, which may be away.
      const live = repo.isId(messageId) ? generations.get(messageId) : undefined;
      if (live?.userId === userId) refuseWhileWriting(live.chatId, "retry");
      const message = await repo.getOwnMessage(db, userId, messageId);
      if (message?.role !== "assistant") throw new ChatError("There is no such answer.");
      let release: (() => void) | undefined;
      try {
        const restarted = await withChatLock(message.chatId, async () => {
          const found = await repo.getOwnChatForSend(db, userId, message.chatId);
          if (!found) throw new ChatError("This chat does not exist; it may have been deleted.");
          const { chat } = found;
          refuseWhileWriting(chat.id, "retry");
          if (found.streaming) throw new ChatError(WRITING_RETRY);
          if (found.history.at(-1)?.id !== message.id) {
            throw new ChatError("Only the newest answer can be written again.");
          }
          release = admit(userId);
          if (message.status === "complete") {
            // A finished answer is kept: the new one is written beside it, one switch away.
            const branch = await repo.regenerateAnswer(db, chat.id, message.id, chat.model);
            if (!branch) throw new ChatError("That answer is already being written.");
            const shown = await siblingsFor(chat.id, [branch.assistant]);
            broadcast.branched(chat.id, branch.left, [shown(branch.assistant)], branch.assistant.id);
            refreshSidebar(userId);
            return { fresh: branch.assistant, history: branch.history };
          }
          // A failed, stopped or interrupted one is written again in its place.
          const fresh = await repo.restartMessage(db, message.id, chat.model);
          if (!fresh) throw new ChatError("That answer is already being written.");
          broadcast.answerRestarted(chat, fresh);
          refreshSidebar(userId);
          return { fresh, history: found.history };
        });
        await startAnswer(userId, restarted.fresh, restarted.history);
      } finally {
        release?.();
      }
    },

    /**
     * Sends a person's message again with new words: a new branch from that point, with a new
     * answer; the old message and what followed it stay, one switch away.
     */
    async edit(userId: string, messageId: unknown, rawContent: unknown) {
      const content = messageText(rawContent);
      const message = await repo.getOwnMessage(db, userId, messageId);
      if (message?.role !== "user") throw new ChatError("There is no such message.");
      if (!message.active) throw new ChatError("That message is no longer shown; it is on another branch.");
      let release: (() => void) | undefined;
      try {
        const started = await withChatLock(message.chatId, async () => {
          refuseWhileWriting(message.chatId, "edit");
          release = admit(userId);
          const branch = await repo.editExchange(db, userId, message.id, content);
          if (!branch) return refuseChange(userId, message.chatId, "edit");
          const shown = await siblingsFor(message.chatId, [branch.user, branch.assistant]);
          broadcast.branched(
            message.chatId,
            branch.left,
            [shown(branch.user), shown(branch.assistant)],
            branch.assistant.id,
          );
          refreshSidebar(userId);
          return { assistant: branch.assistant, history: [...branch.history, branch.user] };
        });
        await startAnswer(userId, started.assistant, started.history);
      } finally {
        release?.();
      }
    },

    /** Shows another branch: the one through `messageId`, a sibling of a message shown now. */
    async switchBranch(userId: string, messageId: unknown) {
      const message = await repo.getOwnMessage(db, userId, messageId);
      if (!message) throw new ChatError("There is no such message.");
      if (message.active) return;
      await withChatLock(message.chatId, async () => {
        refuseWhileWriting(message.chatId, "switch");
        const branch = await repo.switchBranch(db, userId, message.id);
        if (!branch) return refuseChange(userId, message.chatId, "switch");
        const shown = await siblingsFor(branch.chatId, branch.shown);
        broadcast.branched(branch.chatId, branch.left, branch.shown.map(shown));
      });
    },

    async rename(userId: string, chatId: string, rawTitle: unknown) {
      const title = typeof rawTitle === "string" ? plainText(rawTitle).trim().replace(/\s+/g, " ").slice(0, 200) : "";
      if (!title) throw new ChatError("A title cannot be empty.");
      return withChatLock(chatId, async () => {
        const chat = await repo.updateChat(db, userId, chatId, { title });
        if (!chat) return undefined;
        broadcast.chatRenamed(chat);
        refreshSidebar(userId);
        return chat;
      });
    },

    async setModel(userId: string, chatId: string, rawModel: unknown) {
      const model = typeof rawModel === "string" ? plainText(rawModel).trim().slice(0, 200) : "";
      if (!model) throw new ChatError("Choose a model.");
      return repo.updateChat(db, userId, chatId, { model });
    },

    /** A person's chat with what its settings form needs: the chat's model as the upstream lists it. */
    async settings(userId: string, chatId: unknown) {
      const chat = await repo.getOwnChat(db, userId, chatId);
      if (!chat) return undefined;
      return { chat, model: (await models()).find((m) => m.id === chat.model) };
    },

    /**
     * Saves a chat's system prompt and parameters from its settings form, checked against its
     * model; a bad value throws a SettingsError and saves nothing. Undefined when not their chat.
     */
    async saveSettings(userId: string, chatId: unknown, form: Record<string, unknown>) {
      const found = await this.settings(userId, chatId);
      if (!found) return undefined;
      const settings = parseSettings(form, found.chat.model, found.model, found.chat);
      const chat = await repo.updateChatSettings(db, userId, found.chat.id, settings);
      if (chat) broadcast.settingsChanged(chat);
      return chat && { chat, model: found.model };
    },

    /** The new-chat page's presets, and the one it starts from (`missing` when that is not the person's). */
    async newChat(userId: string, presetId: unknown) {
      const presets = await listPresets(db, userId);
      const preset = presetId ? presets.find((p) => p.id === presetId) : undefined;
      return { presets, preset, missing: Boolean(presetId) && !preset };
    },

    /** Deletes a chat; an answer being written is aborted first (no more billing for it). */
    async remove(userId: string, chatId: string) {
      if (!(await repo.getOwnChat(db, userId, chatId))) return false;
      const live = generations.inChat(chatId);
      if (live) {
        generations.stop(live.messageId);
        await live.done;
      } else if (peers) {
        const writing = await repo.streamingAnswerIn(db, chatId);
        if (writing) broadcast.stopElsewhere(writing, userId);
      }
      return withChatLock(chatId, async () => {
        const deleted = await repo.deleteChat(db, userId, chatId);
        if (deleted) {
          broadcast.chatDeleted(chatId);
          refreshSidebar(userId);
        }
        return deleted;
      });
    },

    models,

    /**
     * Before a person's account is deleted: their answers being written are stopped, as a deleted
     * chat's are (no more streaming and billing), here and, with other instances, where written.
     */
    async stopAnswersOf(userId: string) {
      const here = generations.ids().flatMap((id) => {
        const g = generations.get(id);
        return g?.userId === userId ? [g] : [];
      });
      for (const g of here) generations.stop(g.messageId);
      if (peers) {
        const stopped = new Set(here.map((g) => g.messageId));
        for (const id of await repo.streamingAnswersOf(db, userId)) {
          if (!stopped.has(id)) broadcast.stopElsewhere(id, userId);
        }
      }
      await Promise.all(here.map((g) => g.done));
    },

    /**
     * At start: answers a dead process left `streaming` become `interrupted`, text kept. On the
     * embedded database that is all of them (one process at a time); on Postgres only those whose
     * lease ran out, as other processes may be writing theirs (the rest are ended by keepLeases
     * once theirs runs out).
     */
    async recoverInterrupted(): Promise<number> {
      const orphans = await (database.driver === "pglite" ? repo.streamingAnswers(db) : repo.expiredAnswers(db));
      for (const m of orphans) {
        await repo.finishMessage(db, m.id, {
          ...m,
          status: "interrupted",
          at: 0,
          reasoningAt: 0,
          reasoning: m.reasoning ?? "",
          html: renderMarkdown(m.content),
        });
      }
      return orphans.length;
    },

    /** At shutdown: every answer in flight is aborted and saved as `interrupted`, and tabs told. */
    async shutdown() {
      clearInterval(leaseTimer);
      await generations.stopAll();
      await Promise.all(sidebarLanes);
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;

/** A message as typed, made plain and checked: refused with a sentence when empty or too long. */
function messageText(raw: unknown): string {
  const content = typeof raw === "string" ? plainText(raw).trim() : "";
  if (!content) throw new ChatError("Write a message first.");
  if (content.length > MAX_MESSAGE_LENGTH) throw new ChatError(tooLong(content.length));
  return content;
}

function tooLong(length: number): string {
  return `That message is ${length.toLocaleString("en")} characters long; the limit is ${MAX_MESSAGE_LENGTH.toLocaleString("en")}.`;
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
