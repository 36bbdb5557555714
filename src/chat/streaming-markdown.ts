import { renderMarkdown, splitFinishedBlocks } from "./markdown.ts";
import { OpenFence } from "./open-fence.ts";

/** What a streamed word may hold to be shown without rendering: no Markdown, no link, no entity. */
const PLAIN = /^[\p{L}\p{N} ',]*$/u;
/** Words a paragraph grows by before its HTML is joined into one string again (see growParagraph). */
const ROPE_WORDS = 64;

/** Renders a growing answer block by block: each finished block once, the open tail every frame. */
export class StreamingMarkdown {
  /** HTML of the finished blocks, in order. */
  readonly blocks: string[] = [];
  /** HTML of the open tail, as last returned. */
  tail = "";
  private finishedLength = 0;
  text = "";
  /** Whether the text ends with a line end. */
  private endsLine = false;

  /** The text of the open tail: what `tail` renders. */
  get openText(): string {
    return this.text.slice(this.finishedLength);
  }

  /**
   * While plain words keep lengthening the last paragraph: the tail's HTML without its closing
   * `</p>\n`, and the spaces typed after the last word (not shown yet). Kept so each word costs
   * the same however long the paragraph is: checking or slicing the whole text per word would not.
   */
  private growing: { open: string; spaces: number; words: number } | undefined;
  /** The open tail's code block, while it is one being written. */
  private fence: OpenFence | undefined;

  /**
   * Adds streamed text; returns the HTML of blocks that finished and the tail's HTML, and, when
   * plain words only lengthened the last paragraph, the text they added to it (`grown`).
   */
  push(delta: string): { newBlocks: string[]; tail: string; grown?: string } {
    const before = this.text.length;
    // `text += delta` is a rope in JavaScriptCore: reading a character of it (its last, say) would
    // copy the whole answer into one string at every push, so the last line end is remembered.
    const afterLineEnd = this.endsLine;
    this.text += delta;
    if (delta) this.endsLine = delta.endsWith("\n");
    // Blocks finish only when a line ends or the one after a blank line begins: otherwise only the tail grew.
    if (!delta.includes("\n") && !afterLineEnd) {
      const grown = this.growParagraph(delta, before);
      if (grown !== undefined) return { newBlocks: [], tail: this.tail, grown };
      this.growing = undefined;
      this.tail = this.renderTail(this.text.slice(this.finishedLength));
      return { newBlocks: [], tail: this.tail };
    }
    this.growing = undefined;
    const { finished, rest } = splitFinishedBlocks(this.text.slice(this.finishedLength));
    const newBlocks = finished.map((block) => {
      this.finishedLength += block.length + 1;
      return renderMarkdown(block);
    });
    this.blocks.push(...newBlocks);
    this.tail = this.renderTail(rest);
    return { newBlocks, tail: this.tail };
  }

  /** The open tail's HTML: a code block still being written grows by its new code (see open-fence.ts). */
  private renderTail(rest: string): string {
    const lineEnd = rest.indexOf("\n");
    if (lineEnd < 0) return renderMarkdown(rest);
    const opener = rest.slice(0, lineEnd);
    if (this.fence?.at !== this.finishedLength || this.fence.opener !== opener) {
      this.fence = OpenFence.open(opener, this.finishedLength);
    }
    return this.fence?.render(rest.slice(lineEnd + 1)) ?? renderMarkdown(rest);
  }

  /**
   * Most of a streamed answer is words added to the paragraph being written. Rendering the whole
   * paragraph again for each would cost time growing with its length; when the tail ends with a
   * paragraph and the new text and the word it joins are plain (nothing Markdown, a link or an
   * entity could start or end with), the rendering is known: the words go at the paragraph's end.
   * Spaces at the end show only once a word follows them (the renderer trims a paragraph's end).
   * Returns the HTML added, or undefined when the tail must be rendered.
   */
  private growParagraph(delta: string, end: number): string | undefined {
    if (!PLAIN.test(delta)) return undefined;
    // Checked once when words start going straight out; plain words cannot undo what was checked.
    // Checked again every so many words, for the HTML: built word by word with `+=`, it is a rope
    // in JavaScriptCore that keeps every word (two strings each) until its characters are read,
    // and nothing reads them. canGrow takes it from the tail with slice, which joins it into one
    // string. (100 answers streaming: 123,000 of the process's 154,000 strings were these.)
    if (this.growing && ++this.growing.words >= ROPE_WORDS) this.growing = undefined;
    this.growing ??= this.canGrow(end);
    if (!this.growing) return undefined;
    const visible = delta.replace(/ +$/, "");
    if (!visible) {
      this.growing.spaces += delta.length;
      return "";
    }
    const added = " ".repeat(this.growing.spaces) + visible;
    this.growing.spaces = delta.length - visible.length;
    this.growing.open += added;
    this.tail = `${this.growing.open}</p>\n`;
    return added;
  }

  /** Whether plain words written at `end` would only lengthen the tail's last paragraph. */
  private canGrow(end: number): { open: string; spaces: number; words: number } | undefined {
    if (!this.tail.endsWith("</p>\n") || this.mayBeDefinition(end)) return undefined;
    let spaces = 0;
    while (end - spaces > this.finishedLength && this.text[end - spaces - 1] === " ") spaces++;
    let word = end - spaces;
    while (word > this.finishedLength && this.text[word - 1] !== " " && this.text[word - 1] !== "\n") word--;
    // The last line must be the paragraph's (a line break just before means a line not yet begun).
    if (end - spaces === this.finishedLength || this.text[end - spaces - 1] === "\n") return undefined;
    if (!spaces && !PLAIN.test(this.text.slice(word, end))) return undefined;
    return { open: this.tail.slice(0, -"</p>\n".length), spaces, words: 0 };
  }

  /**
   * Whether a line of the text's last paragraph (back to a blank line) starts with "[": it may be
   * a link definition, which shows nothing, so the tail's last paragraph would not be this one.
   */
  private mayBeDefinition(end: number): boolean {
    let lineEnd = end;
    while (lineEnd > this.finishedLength) {
      const lineStart = Math.max(this.text.lastIndexOf("\n", lineEnd - 1) + 1, this.finishedLength);
      const line = this.text.slice(lineStart, lineEnd);
      if (line.trim() === "") return false;
      if (/^ {0,3}\[/.test(line)) return true;
      lineEnd = lineStart - 1;
    }
    return false;
  }
}
