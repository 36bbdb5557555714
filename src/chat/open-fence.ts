import { FENCE, fenceLanguage, highlightCode, renderMarkdown } from "./markdown.ts";

/** A fence's opening line, alone at the start of the open tail: its marker and info string. */
const OPENER = /^(`{3,}|~{3,})([^\n]*)$/;

/**
 * A fenced code block still being written at the end of a streamed answer. Rendered as Markdown
 * each frame, its code was highlighted again from the first line every 40 ms: with code in many
 * answers at once, highlight.js had 30% of a profile's samples (docs/performance.md). Here
 * complete lines are highlighted once, as far as highlight.js ends them at the language's root,
 * and each frame highlights only what follows. The HTML is what markdown-it gives for the same
 * text (the tests compare every step); anything it might read otherwise is left to markdown-it.
 */
export class OpenFence {
  /** Code rendered for good, and its HTML. */
  private settled = 0;
  private settledHtml = "";
  /** Code in complete lines known to keep the fence open. */
  private scanned = 0;
  private closed = false;

  private constructor(
    /** The opening line, and where it starts in the answer's text. */
    readonly opener: string,
    readonly at: number,
    private readonly marker: string,
    private readonly language: string | undefined,
    /** The block's HTML before and after its code. */
    private readonly before: string,
    private readonly after: string,
  ) {}

  /** For an open tail whose first line is `opener`; undefined when that tail is rendered as Markdown. */
  static open(opener: string, at: number): OpenFence | undefined {
    const [, marker, info] = OPENER.exec(opener) ?? [];
    if (marker === undefined || info === undefined) return undefined;
    // Only an info string markdown-it would not unescape, in a line it takes for a fence at all.
    if (/[\\&\r\0]/.test(info) || (marker[0] === "`" && info.includes("`"))) return undefined;
    const empty = renderMarkdown(opener);
    const end = empty.lastIndexOf("</code></pre>");
    if (end < 0) return undefined;
    return new OpenFence(opener, at, marker, fenceLanguage(info), empty.slice(0, end), empty.slice(end));
  }

  /** The block's HTML with `code` (what follows the opening line so far) in it; undefined once a line may close it. */
  render(code: string): string | undefined {
    if (this.closed) return undefined;
    let line = this.scanned;
    for (let end = code.indexOf("\n", line); end >= 0; end = code.indexOf("\n", line)) {
      if (this.mayEnd(code.slice(line, end))) {
        this.closed = true;
        return undefined;
      }
      line = end + 1;
    }
    this.scanned = line;
    if (this.mayEnd(code.slice(line))) return undefined;
    let open = code.slice(this.settled);
    const lastLine = open.lastIndexOf("\n") + 1;
    // A last line of only spaces and tabs is no line at all to markdown-it until it ends.
    if (/^[ \t]+$/.test(open.slice(lastLine))) open = open.slice(0, lastLine);
    if (lastLine > 0) {
      const lines = highlightCode(open.slice(0, lastLine), this.language);
      if (lines.atRoot) {
        this.settledHtml += lines.html;
        this.settled += lastLine;
        return this.before + this.settledHtml + highlightCode(open.slice(lastLine), this.language).html + this.after;
      }
    }
    return this.before + this.settledHtml + highlightCode(open, this.language).html + this.after;
  }

  /** A line that may close the fence, or that markdown-it reads otherwise than as it stands. */
  private mayEnd(line: string): boolean {
    return FENCE.exec(line)?.[1]?.[0] === this.marker[0] || line.includes("\r") || line.includes("\0");
  }
}
