/*
 * The web pages an answer drew on. OpenRouter's web search (its `openrouter:web_search` server
 * tool, or the older `web` plugin for models without tools) returns what it found as annotations
 * of type "url_citation", streamed in `choices[0].delta.annotations`:
 *
 *   { type: "url_citation", url_citation: { url, title, content?, start_index, end_index } }
 *
 * Only the fields shown are kept, and only links a browser can follow safely (http and https).
 */

/** One page the answer cites, numbered by its place in the answer's list (1 first). */
export type Source = { url: string; title: string; snippet?: string };

/** The most sources an answer keeps: searches beyond it add nothing a person would read. */
export const MAX_SOURCES = 50;
const MAX_URL_LENGTH = 2000;
const MAX_TITLE_LENGTH = 300;
const MAX_SNIPPET_LENGTH = 500;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The URL as a browser would follow it, or undefined unless it is http(s). */
function webUrl(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length > MAX_URL_LENGTH) return undefined;
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** Whitespace (line breaks, tabs, control characters) folded to single spaces, cut to `max`. */
const oneLine = (text: string, max: number) =>
  text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\s\u0000-\u001f\u007f]+/g, " ")
    .trim()
    .slice(0, max);

/** The url citations among what the upstream sent; others (file annotations) are read elsewhere. */
export function urlCitations(raw: unknown): Source[] {
  if (!Array.isArray(raw)) return [];
  const found: Source[] = [];
  for (const entry of raw) {
    if (!isObject(entry) || entry.type !== "url_citation") continue;
    // OpenRouter nests the fields under url_citation, as OpenAI does; some providers send them flat.
    const fields = isObject(entry.url_citation) ? entry.url_citation : entry;
    const url = webUrl(fields.url);
    if (!url) continue;
    const title = typeof fields.title === "string" ? oneLine(fields.title, MAX_TITLE_LENGTH) : "";
    const snippet = typeof fields.content === "string" ? oneLine(fields.content, MAX_SNIPPET_LENGTH) : "";
    found.push({ url, title: title || new URL(url).hostname, ...(snippet ? { snippet } : {}) });
  }
  return found;
}

/** `more` added to `kept`: one per URL (the first keeps its number), at most MAX_SOURCES. */
export function keepSources(kept: Source[], more: Source[]): Source[] {
  const urls = new Set(kept.map((s) => s.url));
  const out = [...kept];
  for (const source of more) {
    if (out.length >= MAX_SOURCES || urls.has(source.url)) continue;
    urls.add(source.url);
    out.push(source);
  }
  return out;
}

/** The site a source is on, as a person reads it: its host without "www.". */
export const siteOf = (url: string) => new URL(url).hostname.replace(/^www\./, "");
