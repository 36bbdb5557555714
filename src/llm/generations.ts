import type { Logger } from "../log.ts";
import { type FileAnnotation, keepAnnotations } from "./annotations.ts";
import { keepSources } from "./citations.ts";
import { Generation, type Outcome, type Progress } from "./generation.ts";
import type { Frame } from "./live-answer.ts";
import type { AnswerParams, ChatTurn, StreamEvent, ToolCall, Upstream, Usage } from "./openrouter.ts";
import { UpstreamError } from "./upstream-errors.ts";

export type GenerationHooks = {
  frame(g: Generation, frame: Frame): void;
  /** Called about once a second with every answer that grew since, so a crash loses at most that much. */
  save(batch: Progress[]): Promise<void>;
  end(g: Generation, outcome: Outcome): Promise<void>;
  /** The end could not be saved at the first attempt; it is being retried. */
  endDelayed(g: Generation): void;
  /** An end that was delayed is saved at last, or given up on: it no longer waits. */
  endResolved(g: Generation): void;
  /** Whether a failed save is the database being away or full (worth retrying for as long as it takes). */
  outage(err: unknown): boolean;
  /** The tail's HTML while waiting to retry. */
  retrying(event: Extract<StreamEvent, { type: "retrying" }>): string;
  /**
   * An image arrived in the answer (its URL as the model sent it): kept in the background, in
   * order; `end` is called only after this returned, and is the one to wait for what it started.
   */
  image(g: Generation, url: string): void;
  /**
   * Runs one tool call the model made (showing it, asking approval where needed) and answers
   * what the model is given back; never throws. `overLimit`: the answer has used its calls, so
   * the call is not made and the model is told so.
   */
  tool?(g: Generation, call: ToolCall, overLimit: boolean): Promise<string>;
};

/** How often an end the database refuses for a reason other than an outage is tried. */
const MAX_OTHER_END_FAILURES = 5;

export type GenerationTiming = {
  frameMs: number;
  saveMs: number;
  /** The first wait before saving an answer's end again; doubled after each failure up to `endRetryMaxMs`. */
  endRetryMs?: number;
  endRetryMaxMs?: number;
};

/** What the generations report for /metrics. */
export type GenerationMetrics = {
  firstToken(seconds: number): void;
  relayed(pieces: number): void;
  failed(kind: string): void;
};

const noMetrics: GenerationMetrics = { firstToken() {}, relayed() {}, failed() {} };

/**
 * Owns every upstream stream and its AbortController: start, stop, and what each frame carries.
 * Tokens are coalesced into frames every `frameMs`, so the cost per answer grows with its length,
 * not with its number of tokens.
 */
export class Generations {
  private readonly live = new Map<string, Generation>();
  /** Answers that grew since the last save; all saved together, about once a second. */
  private readonly unsaved = new Set<Generation>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  /** Saves are chained so they land in order, and never hold up the stream. */
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly upstream: Upstream,
    private readonly hooks: GenerationHooks,
    private readonly log: Logger,
    private readonly timing: GenerationTiming = { frameMs: 40, saveMs: 1000 },
    private readonly metrics: GenerationMetrics = noMetrics,
  ) {}

  get(messageId: string): Generation | undefined {
    return this.live.get(messageId);
  }

  inChat(chatId: string): Generation | undefined {
    for (const g of this.live.values()) if (g.chatId === chatId) return g;
    return undefined;
  }

  /** Answers being written for one person, across their chats. */
  countFor(userId: string): number {
    let n = 0;
    for (const g of this.live.values()) if (g.userId === userId) n++;
    return n;
  }

  /** The answers this process is writing now. */
  ids(): string[] {
    return [...this.live.keys()];
  }

  /**
   * Runs `fn` between saves, never beside one: a statement touching many of these answers (lease
   * renewal) run beside a save that touches them too could deadlock with it in Postgres.
   */
  betweenSaves(fn: () => Promise<void>): Promise<void> {
    const run = this.saving.then(fn);
    this.saving = run.catch(() => {});
    return run;
  }

  get size(): number {
    return this.live.size;
  }

  start(req: {
    userId: string;
    chatId: string;
    messageId: string;
    first: boolean;
    model: string;
    messages: ChatTurn[];
    params?: AnswerParams;
    usageId?: string;
    recorded?: () => Promise<void>;
    /**
     * Why the request may not go (a spending limit reached): the answer ends at once as failed
     * with this sentence, through the same end as any failure, and can be retried later.
     */
    refused?: string;
  }): Generation {
    const g = new Generation(req.userId, req.chatId, req.messageId, req.first, req.usageId, req.recorded);
    this.live.set(g.messageId, g);
    void this.run(g, req.model, req.messages, req.params, req.refused);
    return g;
  }

  /** Aborts the upstream request; the answer keeps what streamed. */
  stop(messageId: string, as: "stopped" | "interrupted" = "stopped"): Generation | undefined {
    const g = this.live.get(messageId);
    if (!g) return undefined;
    g.stopAs = as;
    g.controller.abort();
    return g;
  }

  /** Drops a finished answer from the live set (its end is saved and about to be announced). */
  forget(messageId: string) {
    this.live.delete(messageId);
  }

  /**
   * At shutdown: every answer in flight is saved as `interrupted` with its text. Resolves once
   * every end is saved, however long the database takes: the caller bounds the wait.
   */
  async stopAll(): Promise<void> {
    const all = [...this.live.values()];
    for (const g of all) this.stop(g.messageId, "interrupted");
    await Promise.all(all.map((g) => g.done));
  }

  /** Answers whose stream is over but whose end is not saved yet (the database is failing). */
  unsavedEnds(): Generation[] {
    return [...this.live.values()].filter((g) => g.ending && g.endFailures > 0);
  }

  private saveSoon(g: Generation) {
    this.unsaved.add(g);
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      const batch = [...this.unsaved];
      this.unsaved.clear();
      this.saving = this.saving
        .then(() => this.saveNew(batch))
        .catch((err) => this.log.warn("save failed", { error: err }));
    }, this.timing.saveMs);
  }

  /**
   * Saves only what each answer gained (re-sending whole answers every second grew with their
   * length). Positions are in characters, so a save that reached the database but reported a
   * failure is not appended twice; they move on only once the save succeeded.
   */
  private async saveNew(batch: Generation[]) {
    const progress = batch.map((g) => g.unsaved(false));
    await this.hooks.save(progress);
    for (const [i, g] of batch.entries()) g.savedUpTo(progress[i]!);
  }

  private async run(g: Generation, model: string, messages: ChatTurn[], params?: AnswerParams, refused?: string) {
    const { frameMs } = this.timing;
    let pending = "";
    let pendingReasoning = "";
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pieces = 0;
    // Counted per frame, not per piece: the metric's own work was ~3% of the CPU at 500 streams.
    let reported = 0;
    const flush = () => {
      timer = undefined;
      if (pieces > reported) {
        this.metrics.relayed(pieces - reported);
        reported = pieces;
      }
      if (!pending && !pendingReasoning) return;
      const frame = g.advance(pending, pendingReasoning);
      pending = "";
      pendingReasoning = "";
      if (frame) this.hooks.frame(g, frame);
      this.saveSoon(g);
    };

    const outcome: Outcome = { status: "complete" };
    let parsed: FileAnnotation[] = [];
    const sent = performance.now();
    let waitingForFirst = true;
    const arrived = () => {
      pieces++;
      if (waitingForFirst) {
        // The first words go out at once: coalescing is for the stream, not for its start.
        waitingForFirst = false;
        this.metrics.firstToken((performance.now() - sent) / 1000);
        flush();
        return;
      }
      timer ??= setTimeout(flush, frameMs);
    };
    // A refused request never goes upstream (and is no upstream failure for the metrics).
    if (refused) Object.assign(outcome, { status: "error", error: refused });
    // The tool loop: while the model asks for tools (and has calls left), they run and the
    // model is asked again with their results; its words all go into the one answer.
    let turn = messages;
    let roundParams = params;
    let calls = 0;
    for (let round = 0; !refused; round++) {
      const asked = new Map<number, { id: string; name: string; arguments: string }>();
      // Where this round's words begin in the answer (what is pending joins the text at each flush).
      const roundFrom = g.md.text.length + pending.length;
      const events = this.upstream.stream({ model, messages: turn, params: roundParams, signal: g.controller.signal });
      try {
        for await (const event of events) {
          if (event.type === "delta") {
            pending += event.content;
            arrived();
          } else if (event.type === "reasoning") {
            pendingReasoning += event.content;
            arrived();
          } else if (event.type === "retrying") {
            // Shown where the answer will appear, and in the snapshot a reconnecting tab gets.
            this.hooks.frame(g, g.notice(this.hooks.retrying(event)));
          } else if (event.type === "image") this.hooks.image(g, event.url);
          else if (event.type === "annotations") parsed = keepAnnotations(parsed, event.annotations);
          else if (event.type === "sources") outcome.sources = keepSources(outcome.sources ?? [], event.sources);
          else if (event.type === "toolCall") {
            const call = asked.get(event.index) ?? { id: "", name: "", arguments: "" };
            call.id ||= event.id ?? "";
            call.name ||= event.name ?? "";
            call.arguments += event.arguments ?? "";
            asked.set(event.index, call);
          } else if (event.type === "usage") outcome.usage = addUsage(outcome.usage, event.usage);
          else outcome.finishReason = event.reason;
        }
      } catch (err) {
        outcome.status = "error";
        outcome.error = err instanceof UpstreamError ? err.message : "The answer failed for an unknown reason.";
        this.metrics.failed(err instanceof UpstreamError ? err.kind : "other");
        if (!(err instanceof UpstreamError)) this.log.error("generation failed", { error: err });
        break;
      }
      const runTool = this.hooks.tool;
      if (!asked.size || !runTool || !roundParams?.tools?.length || g.controller.signal.aborted) break;
      // What the model said before its calls shows before their steps.
      clearTimeout(timer);
      flush();
      const toolCalls: ToolCall[] = [...asked.values()].map((c, i) => ({
        id: c.id || `call_${round}_${i}`,
        type: "function",
        function: { name: c.name, arguments: c.arguments },
      }));
      const results: ChatTurn[] = [];
      for (const call of toolCalls) {
        calls++;
        const content = await runTool(g, call, calls > (roundParams.maxToolCalls ?? Number.POSITIVE_INFINITY));
        results.push({ role: "tool", tool_call_id: call.id, content });
        if (g.controller.signal.aborted) break;
      }
      if (g.controller.signal.aborted) break;
      const said = g.md.text.slice(roundFrom);
      turn = [...turn, { role: "assistant", content: said, tool_calls: toolCalls }, ...results];
      outcome.finishReason = undefined;
      // Out of calls: the model is asked once more without tools, and answers with what it has.
      if (calls >= (roundParams.maxToolCalls ?? Number.POSITIVE_INFINITY)) {
        const { tools: _, ...rest } = roundParams;
        roundParams = rest;
      }
    }
    clearTimeout(timer);
    flush();
    // Only a request that carried PDFs (and so an engine) has parses worth keeping.
    if (parsed.length && params?.pdfEngine) outcome.annotations = { engine: params.pdfEngine, files: parsed };
    if (g.controller.signal.aborted) {
      outcome.status = g.stopAs;
      if (!outcome.usage && pieces) outcome.estimatedTokens = pieces;
    }
    g.ending = outcome;
    // The end is written after any save already under way, so no save can land after it.
    this.unsaved.delete(g);
    await this.saving;
    await this.saveEnd(g, outcome);
    this.live.delete(g.messageId);
    if (g.endFailures) this.hooks.endResolved(g);
    g.resolveDone();
  }

  /**
   * Writes an answer's end, again and again while it fails (the database is restarting, away,
   * or its disk is full), for as long as this process lives: dropping it would leave only the
   * last progress save, shorter than what the tabs showed. The hook is idempotent (the text is
   * written from a character position, the status and usage are set, not added).
   */
  private async saveEnd(g: Generation, outcome: Outcome) {
    const first = this.timing.endRetryMs ?? 250;
    const most = this.timing.endRetryMaxMs ?? 5000;
    let otherFailures = 0;
    for (;;) {
      try {
        await this.hooks.end(g, outcome);
        if (g.endFailures)
          this.log.info("saved the end of an answer", { messageId: g.messageId, attempts: g.endFailures + 1 });
        return;
      } catch (err) {
        g.endFailures++;
        g.endError = err;
        // A database that is away comes back; a statement it refuses for another reason will be
        // refused again, and retrying it for ever would hold the chat for ever. After a few tries
        // the answer is let go: the lease sweep or the next start ends it with its saved text.
        if (!this.hooks.outage(err) && ++otherFailures >= MAX_OTHER_END_FAILURES) {
          this.log.error("gave up saving the end of an answer: the database refused it", {
            messageId: g.messageId,
            attempts: g.endFailures,
            error: err,
          });
          return;
        }
        // The first failure and then about one a minute: an outage must not flood the log.
        if (g.endFailures === 1 || g.endFailures % 12 === 0) {
          this.log.error("could not save the end of an answer; retrying", {
            messageId: g.messageId,
            attempts: g.endFailures,
            error: err,
          });
        }
        if (g.endFailures === 1) this.hooks.endDelayed(g);
        await Bun.sleep(Math.min(first * 2 ** (g.endFailures - 1), most));
      }
    }
  }
}

/** An answer's usage over its requests (a tool loop makes several): tokens and cost added up. */
function addUsage(sum: Usage | undefined, more: Usage): Usage {
  if (!sum) return more;
  const add = (a: number | null, b: number | null) => (a === null && b === null ? null : (a ?? 0) + (b ?? 0));
  return {
    promptTokens: sum.promptTokens + more.promptTokens,
    completionTokens: sum.completionTokens + more.completionTokens,
    reasoningTokens: add(sum.reasoningTokens, more.reasoningTokens),
    cachedTokens: add(sum.cachedTokens, more.cachedTokens),
    cost: add(sum.cost, more.cost),
  };
}
