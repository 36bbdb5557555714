import type Katex from "katex";
import type { KatexOptions } from "katex";
import type { MarkdownIt, StateBlock, StateInline } from "markdown-it";

/**
 * Math the way models write it: `$…$` and `\(…\)` inline, `$$…$$` and `\[…\]` displayed, typeset
 * on the server by KaTeX as HTML (what is seen) plus MathML (what screen readers read). Only
 * closed formulas are typeset, so a half-written one streams as its source until it closes; one
 * KaTeX cannot read stays its source, escaped.
 */
export function math(md: MarkdownIt): void {
  // Before "escape", which would read `\(` as an escaped parenthesis.
  md.inline.ruler.before("escape", "math_inline", mathInline);
  md.block.ruler.before("fence", "math_block", mathBlock, { alt: ["paragraph", "reference", "blockquote", "list"] });
  md.renderer.rules.math_inline = (tokens, idx) => {
    const token = tokens[idx]!;
    return (
      typeset(token.content, DISPLAYED.has(token.markup)) ??
      md.utils.escapeHtml(token.markup + token.content + token.info)
    );
  };
  md.renderer.rules.math_block = (tokens, idx) => {
    const token = tokens[idx]!;
    const html = typeset(token.content, true);
    return html
      ? `<div class="math-block">${html}</div>\n`
      : `<p>${md.utils.escapeHtml(token.markup + token.content + token.info)}</p>\n`;
  };
}

const CLOSERS: Record<string, string> = { $: "$", $$: "$$", "\\(": "\\)", "\\[": "\\]" };
/** Openers of displayed math (centred, on a line of its own), also within a paragraph. */
const DISPLAYED = new Set(["$$", "\\["]);

/**
 * An inline formula. A lone `$` opens only when a non-space follows it, and the next unescaped `$`
 * must close it: no space before it and no digit after (so "$5 and $10" stays prose; pandoc's
 * rule). A `$` that cannot close ends the attempt rather than being skipped over, so prices before
 * a formula are not swallowed into it.
 */
function mathInline(state: StateInline, silent: boolean): boolean {
  const { src, pos, posMax } = state;
  const open = src.startsWith("$$", pos)
    ? "$$"
    : src[pos] === "$"
      ? "$"
      : src.startsWith("\\(", pos) || src.startsWith("\\[", pos)
        ? src.slice(pos, pos + 2)
        : undefined;
  if (!open) return false;
  const close = CLOSERS[open]!;
  const start = pos + open.length;
  let end = start;
  for (;;) {
    end = src.indexOf(close, end);
    if (end < 0 || end + close.length > posMax) return false;
    if (!escaped(src, end)) break;
    end += 1;
  }
  const content = src.slice(start, end);
  if (!content.trim()) return false;
  if (open === "$" && (/\s/.test(content[0]!) || /\s/.test(content.at(-1)!) || /\d/.test(src[end + 1] ?? ""))) {
    return false;
  }
  if (!silent) {
    const token = state.push("math_inline", "math", 0);
    token.content = content;
    token.markup = open;
    token.info = close;
  }
  state.pos = end + close.length;
  return true;
}

/** Whether the character at `at` is escaped by an odd run of backslashes before it. */
function escaped(src: string, at: number): boolean {
  let n = 0;
  while (at - n - 1 >= 0 && src[at - n - 1] === "\\") n++;
  return n % 2 === 1;
}

/**
 * A displayed formula on lines of its own: `$$` or `\[` starting a line, up to the line that ends
 * with the closer. A blank line before the closer means it is not one (so the streaming splitter,
 * which cuts at blank lines, never cuts through a formula).
 */
function mathBlock(state: StateBlock, startLine: number, endLine: number, silent: boolean): boolean {
  if (state.sCount[startLine]! - state.blkIndent >= 4) return false; // an indented code block
  const line = (n: number) => state.src.slice(state.bMarks[n]! + state.tShift[n]!, state.eMarks[n]).trimEnd();
  const first = line(startLine);
  const open = first.startsWith("$$") ? "$$" : first.startsWith("\\[") ? "\\[" : undefined;
  if (!open) return false;
  const close = CLOSERS[open]!;
  const lines = [first.slice(open.length)];
  let last = startLine;
  // The closer ends a line, and no other closer comes before it ("$$a$$ and $$b$$" is a paragraph).
  while (!(lines.at(-1)!.endsWith(close) && lines.at(-1)!.indexOf(close) === lines.at(-1)!.length - close.length)) {
    if (lines.at(-1)!.includes(close)) return false;
    last++;
    if (last >= endLine || state.isEmpty(last) || state.sCount[last]! < state.blkIndent) return false;
    lines.push(line(last));
  }
  lines[lines.length - 1] = lines.at(-1)!.slice(0, -close.length);
  const content = lines.join("\n");
  if (!content.trim()) return false;
  if (silent) return true;
  const token = state.push("math_block", "math", 0);
  token.block = true;
  token.content = content;
  token.markup = open;
  token.info = close;
  token.map = [startLine, last + 1];
  state.line = last + 1;
  return true;
}

let katex: typeof Katex | undefined;
/** KaTeX, loaded at the first formula rather than at start: loading it took longer than starting does. */
const loadKatex = (): typeof Katex => (katex ??= require("katex") as typeof Katex);

const OPTIONS: KatexOptions = {
  output: "htmlAndMathml",
  throwOnError: true,
  // No \href, \url, \includegraphics or \html…: links, images and raw HTML stay out of formulas.
  trust: false,
  strict: "ignore",
  // Bounds on what one formula may cost or cover: macro expansions, and sizes given in em.
  maxExpand: 1000,
  maxSize: 20,
};

/** Formulas longer than this stay source: typesetting cost grows faster than length with nesting. */
const MAX_LENGTH = 4000;
/**
 * Formulas that define macros stay source: a macro expanding to a long body, used many times
 * within maxExpand, took seconds and megabytes to typeset.
 */
const DEFINES = /\\(?:[gex]?def|(?:future)?let|global|(?:re)?newcommand|providecommand)(?![A-Za-z])/;

/**
 * Typeset formulas, newest last. The open tail of a streamed answer is rendered again at every
 * frame with the same formulas in it; each is typeset once.
 */
const cache = new Map<string, string>();
const CACHED = 256;
const CACHED_LENGTH = 64 * 1024;

/** A formula as HTML and MathML, or undefined when it is to be shown as its source. */
function typeset(tex: string, display: boolean): string | undefined {
  if (tex.length > MAX_LENGTH || DEFINES.test(tex)) return undefined;
  const key = `${display ? "D" : "I"}${tex}`;
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  let html: string;
  try {
    html = loadKatex().renderToString(tex, { ...OPTIONS, displayMode: display });
  } catch {
    return undefined; // a parse error, too many expansions, or nesting deep enough to exhaust the stack
  }
  // KaTeX positions with style attributes, which the page's CSP (style-src 'self') refuses;
  // static/app.js sets them through the CSSOM, which the CSP leaves alone. Every style attribute
  // KaTeX writes is double-quoted and escaped, and model text never makes attributes (html: false).
  html = html.replaceAll(' style="', ' data-katex-style="');
  if (html.length <= CACHED_LENGTH) {
    cache.set(key, html);
    if (cache.size > CACHED) cache.delete(cache.keys().next().value!);
  }
  return html;
}
