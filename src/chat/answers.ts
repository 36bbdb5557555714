import { isUnavailable, withDeadline } from "../db/errors.ts";
import { perTick } from "../db/per-tick.ts";
import type { Message } from "../db/schema.ts";
import type { Generation, Outcome } from "../llm/generation.ts";
import { type GenerationMetrics, Generations, type GenerationTiming } from "../llm/generations.ts";
import { allowancesAfterAnswer } from "../teams/limits-repo.ts";
import { settle } from "../teams/spending.ts";
import { createAnswerImages } from "./answer-images.ts";
import { type PeerEvent, retryingNotice, topics } from "./broadcast.ts";
import { type ChatCore, WRITE_DEADLINE_MS } from "./core.ts";
import { END_UNSAVED } from "./errors.ts";
import { renderMarkdown } from "./markdown.ts";
import { Mirrors } from "./mirrors.ts";
import * as answersRepo from "./repos/answers.ts";
import { attachmentsOf } from "./repos/attachments.ts";
import { siblingsOfMessages } from "./repos/branches.ts";
import { chatsWithTotals, chatWithTotals } from "./repos/chats.ts";
import { getMessage } from "./repos/messages.ts";
import { nameChat } from "./titles.ts";
import { createToolRunner } from "./tool-runner.ts";

/**
 * Answers from their start upstream to their saved end: the ones this process writes
 * (`generations`), the ones other instances write and this one follows (`mirrors`), the leases
 * that tell a live writer from a dead one, and recovery after a crash.
 */
export function createAnswers(core: ChatCore, opts: { timing?: GenerationTiming; metrics?: GenerationMetrics }) {
  const { database, db, bus, broadcast, locks, sidebar, log } = core;
  const images = createAnswerImages(core);
  /** An answer's images, as stored. */
  const imagesOf = async (messageId: string) => (await attachmentsOf(db, [messageId])).get(messageId);
  // What an answer's end writes and reads, per tick (db/per-tick.ts): when hundreds of answers end
  // in the same moment, one statement each for all of them instead of a statement each, every
  // one of which queued for the pool (the last answer waited a second at 1,000; docs/performance.md).
  const finish = perTick(async (ends: (answersRepo.Finish & { id: string })[]) => {
    const ended =
      ends.length === 1
        ? [await answersRepo.finishMessage(db, ends[0]!.id, ends[0]!)]
        : await answersRepo.finishMessages(db, ends);
    core.indexer.soon();
    return ended;
  });
  const totalsOf = perTick(async (chatIds: string[]) =>
    chatIds.length === 1 ? [await chatWithTotals(db, chatIds[0])] : chatsWithTotals(db, chatIds),
  );
  const versions = perTick(async (ids: string[]) => {
    const found = await siblingsOfMessages(db, ids);
    return ids.map((id) => found.get(id));
  });
  /** Its place among the answers written in its stead (Regenerate), shown again when it ends. */
  const versionsOf = (m: Message) => versions(m.id);

  const tools = createToolRunner(core);
  const generations: Generations = new Generations(
    core.upstream,
    {
      frame: (g, frame) => broadcast.frame(g, frame),
      save: (batch) => withDeadline(answersRepo.saveProgress(db, batch), WRITE_DEADLINE_MS, "a progress save"),
      end: (g, outcome) => endAnswer(g, outcome),
      endDelayed: (g) => {
        broadcast.status(g.chatId, END_UNSAVED, "error");
        // An unsaved end is a reason for the banner and /readyz (app.ts) that no statement reports,
        // coming or going: without this, tabs that connected meanwhile kept the banner after it went.
        database.health.recheck();
      },
      endResolved: () => database.health.recheck(),
      outage: isUnavailable,
      retrying: retryingNotice,
      image: (g, url) => images.add(g, url),
      tool: (g, call, overLimit) => tools.run(g, call, overLimit),
    },
    log,
    opts.timing,
    opts.metrics,
  );

  /** Answers other instances are writing, followed for this instance's tabs. */
  const mirrors = new Mirrors({
    read: (messageId) => getMessage(db, messageId),
    lock: (chatId, fn) => locks.run(chatId, fn),
    frame: (chatId, messageId, frame) => broadcast.mirrorFrame(chatId, messageId, frame),
    whole: (message, live) => broadcast.mirrorWhole(message, live),
  });

  /** Saves an answer's end and shows it; run again as a whole when it fails, so each step may repeat. */
  async function endAnswer(g: Generation, outcome: Outcome) {
    const sources = outcome.sources ?? [];
    const safeHtml = renderMarkdown(g.md.text, { urls: sources.map((s) => s.url), messageId: g.messageId });
    // Every image that arrived is kept (or left out) before the answer is shown whole.
    const withImages = await images.settled(g);
    // What the answer cost replaces its estimate (kept when nothing was reported; see settle).
    const settleCost = async (usageId: string) => {
      await g.recorded?.();
      const completionTokens = outcome.usage?.completionTokens ?? outcome.estimatedTokens;
      await settle(db, usageId, { ...outcome.usage, completionTokens });
    };
    const firstAnswer = await locks.run(g.chatId, async () => {
      // unsaved() names the answer (its id) with what its saves have not written yet.
      const finishing = finish({
        status: outcome.status,
        ...g.unsaved(true),
        html: safeHtml,
        error: outcome.error ?? null,
        finishReason: outcome.finishReason ?? null,
        promptTokens: outcome.usage?.promptTokens ?? null,
        completionTokens: outcome.usage?.completionTokens ?? outcome.estimatedTokens ?? null,
        reasoningTokens: outcome.usage?.reasoningTokens ?? null,
        cachedTokens: outcome.usage?.cachedTokens ?? null,
        cost: outcome.usage?.cost ?? null,
        sources: sources.length ? sources : null,
      });
      const message = await withDeadline(finishing, WRITE_DEADLINE_MS, "saving an answer's end");
      if (message && outcome.annotations) {
        const saving = answersRepo.saveAnnotations(db, message.id, outcome.annotations);
        await withDeadline(saving, WRITE_DEADLINE_MS, "saving an answer's PDF parses");
      }
      // Read together, each with the other answers ending in the same moment (db/per-tick.ts);
      // the cost is settled meanwhile (after the end, whose write tells first if the disk is full),
      // before the end is shown.
      const [found, attachments, siblings] = await Promise.all([
        withDeadline(totalsOf(g.chatId), WRITE_DEADLINE_MS, "reading a chat's totals"),
        message && withImages
          ? withDeadline(imagesOf(message.id), WRITE_DEADLINE_MS, "reading an answer's images")
          : undefined,
        message ? withDeadline(versionsOf(message), WRITE_DEADLINE_MS, "reading an answer's versions") : undefined,
        g.usageId ? withDeadline(settleCost(g.usageId), WRITE_DEADLINE_MS, "settling an answer's cost") : undefined,
      ]);
      generations.forget(g.messageId);
      tools.forget(g.messageId);
      if (!message || !found) return undefined; // the chat was deleted meanwhile
      broadcast.answerFinished(
        found.chat,
        { message, safeHtml, attachments, siblings },
        found.totals,
        g.endFailures > 0,
      );
      sidebar.refresh(found.chat.userId);
      return outcome.status === "complete" && g.first ? { chat: found.chat, message } : undefined;
    });
    if (firstAnswer) void nameChat(core, firstAnswer.chat, firstAnswer.message);
    void spendingNotice(g);
  }

  /** After an answer: what is left of the person's limits, shown near the composer (a failure here is only logged). */
  async function spendingNotice(g: Generation) {
    try {
      broadcast.spending(g.userId, await allowancesAfterAnswer(db, g.userId));
    } catch (err) {
      log.debug("could not read what is left of a person's limits", { error: err });
    }
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
        if (mine.length) await withDeadline(answersRepo.renewLeases(db, mine), WRITE_DEADLINE_MS, "renewing leases");
      });
    } catch (err) {
      leaseTroubleAt = Date.now();
      throw err;
    }
    // After an outage every instance's leases ran out together: give their writers one lease to
    // vouch for them again (and save their ends) before taking any as abandoned.
    if (Date.now() - leaseTroubleAt < answersRepo.LEASE_SECONDS * 1000) return;
    for (const m of await answersRepo.expiredAnswers(db)) {
      // Ours after all (this process stalled past its lease): vouch for it again.
      if (generations.get(m.id)) continue;
      await locks.run(m.chatId, async () => {
        const safeHtml = renderMarkdown(m.content);
        const ended = await answersRepo.interruptExpired(db, m.id, safeHtml);
        const found = ended && (await chatWithTotals(db, m.chatId));
        if (!ended || !found) return; // another process ended it first, or the chat is gone
        log.warn("answer abandoned by its writer marked interrupted", { messageId: m.id });
        const [attachments, siblings] = await Promise.all([imagesOf(m.id), versionsOf(ended)]);
        broadcast.answerFinished(found.chat, { message: ended, safeHtml, attachments, siblings }, found.totals);
        sidebar.refresh(found.chat.userId);
      });
    }
  }
  const leaseTimer = setInterval(
    () => {
      keepLeases().catch((err) => log.warn("could not keep answer leases", { error: err }));
    },
    (answersRepo.LEASE_SECONDS * 1000) / 3,
  );
  leaseTimer.unref();

  return {
    generations,
    mirrors,
    tools,

    /** An answer as it stands now, written here or followed from another instance. */
    live: (messageId: string) => generations.get(messageId) ?? mirrors.get(messageId),

    /**
     * Events from other instances, in the order each sent them. A chat's go through its critical
     * section, like this instance's own, so a tab resynchronising here gets each exactly once.
     */
    receive(events: PeerEvent[]) {
      for (const e of events) {
        switch (e.kind) {
          case "html": {
            const chatId = topics.chatOf(e.topic);
            if (!chatId) bus.publish(e.topic, e.html);
            else {
              void locks.run(chatId, async () => {
                if (e.ended) mirrors.end(e.ended);
                bus.publish(e.topic, e.html);
              });
            }
            break;
          }
          case "delta":
            // Checked before the chat's lock: most words are for chats no tab here shows.
            if (bus.watched(topics.chat(e.chatId))) void locks.run(e.chatId, async () => mirrors.apply(e));
            else mirrors.drop(e.messageId);
            break;
          case "stop": {
            const g = generations.get(e.messageId);
            if (g?.userId === e.userId) generations.stop(g.messageId);
            break;
          }
          case "tool":
            tools.decide(e.userId, generations.get(e.messageId), e.stepId, e.approved);
            break;
          case "sidebar":
            sidebar.refreshHere(e.userId);
            break;
        }
      }
    },

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
      if (core.peers) {
        const stopped = new Set(here.map((g) => g.messageId));
        for (const id of await answersRepo.streamingAnswersOf(db, userId)) {
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
      const orphans = await (database.driver === "pglite"
        ? answersRepo.streamingAnswers(db)
        : answersRepo.expiredAnswers(db));
      for (const m of orphans) await interrupt(m);
      return orphans.length;
    },

    /** At shutdown: every answer in flight is aborted and saved as `interrupted`, and tabs told. */
    async shutdown() {
      clearInterval(leaseTimer);
      await generations.stopAll();
    },
  };

  function interrupt(m: Message) {
    return answersRepo.finishMessage(db, m.id, {
      ...m,
      status: "interrupted",
      at: 0,
      reasoningAt: 0,
      reasoning: m.reasoning ?? "",
      html: renderMarkdown(m.content, { urls: (m.sources ?? []).map((s) => s.url), messageId: m.id }),
    });
  }
}

export type Answers = ReturnType<typeof createAnswers>;
