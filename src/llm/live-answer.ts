import { tailGrowth } from "../chat/markdown.ts";
import { StreamingMarkdown } from "../chat/streaming-markdown.ts";
import type { LiveText } from "../chat/types.ts";

/**
 * An answer's text as it grows, rendered for tabs: its blocks, its open tail and its reasoning.
 * The process writing an answer keeps one; so does every other instance showing that answer,
 * fed the same text (a mirror), so each renders its own frames for its own tabs.
 */
export class LiveAnswer {
  readonly md = new StreamingMarkdown();
  /** The model's reasoning so far (plain text, shown apart from the answer). */
  reasoning = "";
  /** The tail's HTML as last published; with `md.blocks` it is exactly what subscribers have. */
  tail = "";
  /** When the answer was asked for (ms since the epoch): its thinking time counts from here. */
  startedAt = Date.now();
  /** How long the model reasoned before its first words, once they came after some reasoning. */
  thinkingMs: number | undefined;

  /** Adds the text and reasoning that arrived since the last frame; returns what tabs need, if anything changed. */
  advance(text: string, reasoning: string): Frame | undefined {
    const shown = this.md.tail;
    const { newBlocks, tail, grown } = text ? this.md.push(text) : { newBlocks: [], tail: this.tail, grown: undefined };
    // A tail that moved into the new blocks is replaced whole, even where the text looks grown;
    // words the renderer was spared go straight out, when the tabs have the tail they grew.
    let change: Frame["tail"];
    if (tail === this.tail) change = undefined;
    else if (newBlocks.length) change = { safeHtml: tail };
    else if (grown !== undefined && shown === this.tail) change = { safeAppend: grown, depth: 1 };
    else {
      const growth = tailGrowth(this.tail, tail);
      change = growth ? { safeAppend: growth.append, depth: growth.depth } : { safeHtml: tail };
    }
    this.tail = tail;
    this.reasoning += reasoning;
    // The thinking ends where the answer begins; the frame that shows its first words says so.
    const thought = this.thinkingMs === undefined && text !== "" && this.reasoning !== "";
    if (thought) this.thinkingMs = this.thoughtSoFar();
    if (!change && !newBlocks.length && !reasoning) return undefined;
    return { newBlocks, tail: change, reasoning, text, ...(thought ? { thinkingMs: this.thinkingMs } : {}) };
  }

  /** How long the model has been reasoning: until its first words, or until now. */
  thoughtSoFar(now = Date.now()): number {
    return this.thinkingMs ?? Math.max(0, now - this.startedAt);
  }

  /** What tabs show of the answer as it stands, to render it whole. */
  shown(): LiveText {
    const { blocks } = this.md;
    const thought = this.thinkingMs !== undefined;
    return {
      safeBlocks: blocks,
      safeTail: this.tail,
      reasoning: this.reasoning,
      thinkingMs: this.thoughtSoFar(),
      thought,
    };
  }

  /** Shows a status line (such as a retry's) where the answer's next words will appear. */
  notice(safeHtml: string): Frame {
    this.tail = safeHtml;
    return { newBlocks: [], tail: { safeHtml }, reasoning: "", text: "", notice: safeHtml };
  }
}

export type Frame = {
  /** HTML of the Markdown blocks that finished since the last frame. */
  newBlocks: string[];
  /**
   * How the open tail changed: replaced (its HTML re-rendered, or a status line while retrying),
   * grown by text at its innermost open element, or not at all.
   */
  tail: { safeHtml: string } | { safeAppend: string; depth: number } | undefined;
  /** Reasoning text that arrived since the last frame (plain text). */
  reasoning: string;
  /** The answer's text that arrived since the last frame, as the model wrote it. */
  text: string;
  /** Set on the frame with the first words after reasoning: how long the model reasoned. */
  thinkingMs?: number;
  /** The status line the tail became (a retry's), when that is what this frame shows. */
  notice?: string;
};
