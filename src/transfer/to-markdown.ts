import MarkdownIt from "markdown-it";
import { FENCE } from "../chat/markdown.ts";
import type { Chat, FileType, Message } from "../db/schema.ts";
import type { FileInfo } from "../files/types.ts";
import { fileSize } from "../limits.ts";

const NOTE: Partial<Record<Message["status"], string>> = {
  streaming: "Still being written when exported.",
  stopped: "Stopped.",
  interrupted: "Interrupted: the server stopped while writing this answer.",
};

/** What each type is called in the list of a message's files. */
const KIND: Record<FileType, string> = {
  "image/png": "PNG image",
  "image/jpeg": "JPEG image",
  "image/webp": "WebP image",
  "image/gif": "GIF image",
  "application/pdf": "PDF",
  "text/plain": "text",
};

/**
 * A chat as one Markdown document: its title, then each message under a heading that names who
 * wrote it (and the model, for answers), its text as written (its own headings moved two levels
 * down, below the one that names who wrote it), then the files it carried.
 * Reasoning is left out. Each file is a link to where its owner downloads it (`filesUrl`/<id>,
 * on this server), never an embedded image: opened offline, the file still reads as a list of
 * names, kinds and sizes, where an image would be a broken picture; opened in a browser signed
 * in to Parley, each link is the file.
 */
export function chatMarkdown(
  chat: Chat,
  messages: Message[],
  files: Map<string, FileInfo[]> = new Map(),
  filesUrl = "/files",
): string {
  const parts = [
    `# ${oneLine(chat.title) || "New chat"}`,
    `*${chat.model} · ${chat.createdAt.toISOString().slice(0, 10)}*`,
  ];
  for (const m of messages) {
    parts.push(m.role === "user" ? "## You" : `## Assistant${m.model ? ` (${oneLine(m.model)})` : ""}`);
    if (m.content) parts.push(demoteHeadings(closeFence(m.content)));
    const attached = files.get(m.id) ?? [];
    if (attached.length) parts.push(fileList(attached, filesUrl));
    const note = m.status === "error" ? `Error: ${oneLine(m.error ?? "the answer failed.")}` : NOTE[m.status];
    if (note) parts.push(`*${note}*`);
  }
  return `${parts.join("\n\n")}\n`;
}

/**
 * The text, with a code fence it leaves open (an answer stopped mid-code) closed: otherwise
 * every heading after it would read as code.
 */
function closeFence(text: string): string {
  let open: string | undefined;
  for (const line of text.split("\n")) {
    const marker = FENCE.exec(line)?.[1];
    if (!marker) continue;
    if (!open) open = marker;
    else if (marker[0] === open[0] && marker.length >= open.length && line.trim() === marker) open = undefined;
  }
  return open ? `${text}\n${open}` : text;
}

// Only to find headings (html: false, as the chat renders): the text itself is never rendered here.
const parser = new MarkdownIt({ html: false });
/** How far a message's own headings move down: below the chat's `#` and the message's `##`. */
const SHIFT = 2;
/** An ATX heading's opening hashes, after any quote or list markers it sits in. */
const ATX = /^((?: {0,3}(?:>|[-*+]|\d{1,9}[.)]) ?)*\s*)#{1,6}(?=[ \t]|$)/;

/**
 * The message's own headings two levels down (`#` becomes `###`, at most `######`), so that an
 * answer's "# Summary" reads as part of the answer, not as a message or a chat of its own.
 * markdown-it finds them (code blocks, fences and `#` in prose are not headings); an underlined
 * heading ("Title" over "===") becomes a `#` one. There is no Markdown importer to round-trip
 * with: the JSON export is the one Parley reads back.
 */
function demoteHeadings(text: string): string {
  const lines: (string | null)[] = text.split("\n");
  for (const t of parser.parse(text, {})) {
    if (t.type !== "heading_open" || !t.map) continue;
    const hashes = "#".repeat(Math.min(6, Number(t.tag.slice(1)) + SHIFT));
    const [start, end] = t.map;
    if (t.markup.startsWith("#")) {
      lines[start] = (lines[start] ?? "").replace(ATX, `$1${hashes}`);
    } else if (t.level === 0) {
      // Underlined, at the top level (inside a quote or list it stays as written, still readable).
      const words = lines.slice(start, end - 1).map((l) => (l ?? "").trim());
      lines[start] = `${hashes} ${words.join(" ")}`;
      for (let i = start + 1; i < end; i++) lines[i] = null;
    }
  }
  return lines.filter((l) => l !== null).join("\n");
}

/** A title or model name inside a heading: one line, whatever it holds. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A message's files as a list: each name a link to the file, then its kind and size. */
function fileList(files: FileInfo[], filesUrl: string): string {
  const items = files.map((f) => `- [${linkText(f.name)}](${filesUrl}/${f.id}) (${KIND[f.type]}, ${fileSize(f.size)})`);
  return `Attached:\n\n${items.join("\n")}`;
}

/**
 * A file name as a link's text: Markdown's punctuation escaped, so that a name such as
 * "[draft] *final*.pdf" is shown as written rather than read as a link or emphasis. (Names hold
 * no line breaks, backslashes or angle brackets: files/kinds.ts refuses them.)
 */
function linkText(name: string): string {
  return name.replace(/[[\]()*_`~!#|&]/g, (c) => `\\${c}`);
}
