import type { PdfEngine } from "../db/schema.ts";
import type { FileAnnotation } from "./annotations.ts";
import type { Source } from "./citations.ts";
import { LiveAnswer } from "./live-answer.ts";
import type { Usage } from "./openrouter.ts";

/** One answer being written, and how it ended; src/llm/generations.ts runs them. */

export type EndStatus = "complete" | "stopped" | "error" | "interrupted";

export type Outcome = {
  status: EndStatus;
  error?: string;
  usage?: Usage;
  /**
   * An answer stopped before the upstream reported its usage: the pieces of text and reasoning
   * that arrived, about one token each on OpenRouter's streams.
   */
  estimatedTokens?: number;
  finishReason?: string;
  /** What OpenRouter's file-parser read from the request's PDFs, and with which engine, to send back later. */
  annotations?: { engine: PdfEngine; files: FileAnnotation[] };
  /** The pages the answer's web search found, in the order they came. */
  sources?: Source[];
};

/** One answer being written. Lives on the server, not in any socket: closing a tab does not stop it. */
export class Generation extends LiveAnswer {
  /** How much of the text and reasoning is saved: in UTF-16 units here, in characters (code points) in Postgres. */
  private readonly saved = { text: 0, textChars: 0, reasoning: 0, reasoningChars: 0 };

  /**
   * What is not saved yet: the text and reasoning after the characters already saved. A progress
   * save holds back a last character whose second half has not arrived; the end takes everything.
   */
  unsaved(whole: boolean): Progress {
    return {
      id: this.messageId,
      at: this.saved.textChars,
      content: after(this.md.text, this.saved.text, whole),
      reasoningAt: this.saved.reasoningChars,
      reasoning: after(this.reasoning, this.saved.reasoning, whole),
      // At the end, an answer that only ever reasoned thought until now.
      thinkingMs: whole && this.reasoning ? this.thoughtSoFar() : (this.thinkingMs ?? null),
    };
  }

  /** After a save of `progress` succeeded: later saves start where it ended. */
  savedUpTo(progress: Progress) {
    this.saved.text += progress.content.length;
    this.saved.textChars += codePoints(progress.content);
    this.saved.reasoning += progress.reasoning.length;
    this.saved.reasoningChars += codePoints(progress.reasoning);
  }
  readonly controller = new AbortController();
  stopAs: "stopped" | "interrupted" = "stopped";
  /**
   * How the answer ended, once its stream is over: set while its end is being saved. Until the
   * save succeeds the answer stays this process's (in memory, its lease renewed), so a database
   * that is away loses none of the text its tabs already showed.
   */
  ending: Outcome | undefined;
  /** Failed attempts to save the end so far. */
  endFailures = 0;
  /** Why the last attempt failed (/readyz names a full disk rather than only the waiting ends). */
  endError: unknown;
  readonly done: Promise<void>;
  resolveDone!: () => void;

  constructor(
    readonly userId: string,
    readonly chatId: string,
    readonly messageId: string,
    /** No answer before it on the branch finished: once complete, the chat gets a title. */
    readonly first: boolean,
    /** The usage row reserved for this answer's request (src/teams/spending.ts), settled at its end. */
    readonly usageId?: string,
    /** Resolves once that row is written, when it was written alongside the request (recordAlongside). */
    readonly recorded?: () => Promise<void>,
  ) {
    super();
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }
}

/** What a progress save adds to one answer: its text and reasoning after the characters already saved. */
export type Progress = {
  id: string;
  at: number;
  content: string;
  reasoningAt: number;
  reasoning: string;
  /** How long the model reasoned before its answer began, once known. */
  thinkingMs: number | null;
};

/** The text after `from`; unless `whole`, short of a last character whose second half has not arrived. */
function after(text: string, from: number, whole: boolean): string {
  const halfLast = !whole && text.length > from && isHighSurrogate(text.charCodeAt(text.length - 1));
  return text.slice(from, halfLast ? text.length - 1 : text.length);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Characters as Postgres counts them: a surrogate pair is one. */
function codePoints(text: string): number {
  let pairs = 0;
  for (let i = 0; i < text.length; i++) if (isHighSurrogate(text.charCodeAt(i))) pairs++;
  return text.length - pairs;
}
