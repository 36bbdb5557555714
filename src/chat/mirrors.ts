import type { Message } from "../db/schema.ts";
import { type Frame, LiveAnswer } from "../llm/live-answer.ts";

/**
 * Text another instance's answer gained, at the offsets (UTF-16 units) where it went: `at` in
 * the answer, `reasoningAt` in its reasoning. `notice` is a status line that became the tail.
 */
export type Delta = {
  chatId: string;
  messageId: string;
  at: number;
  text: string;
  reasoningAt: number;
  reasoning: string;
  notice?: string;
};

type Mirror = { answer: LiveAnswer; chatId: string; seen: number } & (
  | { ready: true }
  | { ready: false; waiting: Delta[] }
);

export type MirrorHooks = {
  /** The answer as saved (its text trails the stream by up to a second of progress saves). */
  read(messageId: string): Promise<Message | undefined>;
  /** Runs `fn` in the chat's critical section, after the events already queued for it. */
  lock(chatId: string, fn: () => Promise<void>): Promise<void>;
  /** A frame for this instance's tabs. */
  frame(chatId: string, messageId: string, frame: Frame): void;
  /** The whole answer as it stands, replacing whatever a tab shows of it. */
  whole(message: Message, live: LiveAnswer): void;
};

const READ_TRIES = 40;
const READ_EVERY_MS = 250;
const FORGET_AFTER_MS = 60_000;

/**
 * Answers other instances are writing, followed here so this instance's tabs see them live. Each
 * mirror is fed the text the writer sends and renders its own frames, because the writer's frames
 * are changes to the writer's own render. A mirror begins from the saved text and holds the
 * deltas that arrive until a save covers the text before them, then shows the answer whole: no
 * gap and nothing twice, like a tab reconnecting to the writer.
 */
export class Mirrors {
  private readonly all = new Map<string, Mirror>();
  /**
   * Answers the database already shows ended while their words are still arriving (the bus runs
   * behind the database under load): those words are dropped until the end's own event comes.
   */
  private readonly ended = new Map<string, number>();

  constructor(private readonly hooks: MirrorHooks) {}

  /** The live state of an answer followed here, for a page or a resynchronising tab. */
  get(messageId: string): LiveAnswer | undefined {
    const m = this.all.get(messageId);
    return m?.ready ? m.answer : undefined;
  }

  /** Applies a delta; run in the chat's critical section, in the order the writer sent them. */
  apply(d: Delta) {
    const m = this.all.get(d.messageId);
    if (this.ended.has(d.messageId)) return;
    if (!m) {
      // Even from the first words: a tab may have read the answer from the database ahead of the
      // bus (or after it ended), so what it shows is replaced by the mirror's whole answer.
      this.catchUp(d);
      return;
    }
    m.seen = Date.now();
    if (!m.ready) {
      m.waiting.push(d);
      return;
    }
    // Not where the mirror's text ends (the answer was written again, or deltas were missed).
    if (d.at !== m.answer.md.text.length || d.reasoningAt !== m.answer.reasoning.length) {
      this.catchUp(d);
      return;
    }
    this.feed(m, d);
  }

  /** No tab of this instance shows the answer's chat any more: nothing is mirrored for it. */
  drop(messageId: string) {
    this.all.delete(messageId);
  }

  /** The answer ended or was written again from its start: the writer's last word on it came. */
  end(messageId: string) {
    this.all.delete(messageId);
    this.ended.delete(messageId);
  }

  /** Everything is read again from the database (events may have been missed). */
  clear() {
    this.all.clear();
    this.ended.clear();
  }

  /** Drops mirrors that heard nothing for a minute (their chat was deleted, or their end missed). */
  sweep(now = Date.now()) {
    for (const [id, m] of this.all) if (now - m.seen > FORGET_AFTER_MS) this.all.delete(id);
    for (const [id, at] of this.ended) if (now - at > FORGET_AFTER_MS) this.ended.delete(id);
  }

  private feed(m: Mirror, d: Delta) {
    const frame = d.notice ? m.answer.notice(d.notice) : m.answer.advance(d.text, d.reasoning);
    if (frame) this.hooks.frame(d.chatId, d.messageId, frame);
  }

  /** Starts a mirror from the saved answer once a save reaches the first delta held. */
  private catchUp(first: Delta) {
    const m: Mirror = {
      answer: new LiveAnswer(),
      chatId: first.chatId,
      seen: Date.now(),
      ready: false,
      waiting: [first],
    };
    this.all.set(first.messageId, m);
    void (async () => {
      for (let i = 0; i < READ_TRIES; i++) {
        if (this.all.get(first.messageId) !== m) return; // ended or restarted meanwhile
        const saved = await this.hooks.read(first.messageId);
        if (saved?.status !== "streaming") {
          this.all.delete(first.messageId);
          if (saved) this.ended.set(first.messageId, Date.now()); // its end is on the way, with the whole answer
          return;
        }
        if (saved.content.length >= first.at && (saved.reasoning ?? "").length >= first.reasoningAt) {
          await this.hooks.lock(first.chatId, async () => {
            if (this.all.get(first.messageId) !== m || m.ready) return;
            this.start(m, saved, first);
          });
          return;
        }
        await Bun.sleep(READ_EVERY_MS);
      }
      // Saves stopped (its writer died): the lease runs out and some instance ends the answer.
      if (this.all.get(first.messageId) === m) this.all.delete(first.messageId);
    })();
  }

  private start(m: Mirror & { ready: false }, saved: Message, first: Delta) {
    let text = saved.content.slice(0, first.at);
    let reasoning = (saved.reasoning ?? "").slice(0, first.reasoningAt);
    let notice: string | undefined;
    for (const d of m.waiting) {
      if (d.at !== text.length || d.reasoningAt !== reasoning.length) {
        this.all.delete(first.messageId); // a gap in what arrived: the next delta starts over
        return;
      }
      text += d.text;
      reasoning += d.reasoning;
      notice = d.notice ?? (d.text || d.reasoning ? undefined : notice);
    }
    // Its thinking time as the writer measured it, when the answer has begun already.
    if (saved.thinkingMs !== null) m.answer.thinkingMs = saved.thinkingMs;
    m.answer.advance(text, reasoning);
    if (notice) m.answer.notice(notice);
    const ready: Mirror = { answer: m.answer, chatId: m.chatId, seen: Date.now(), ready: true };
    this.all.set(first.messageId, ready);
    this.hooks.whole(saved, m.answer);
  }
}
