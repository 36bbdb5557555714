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
 * wrote it (and the model, for answers), its text exactly as written, then the files it carried.
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
    if (m.content) parts.push(closeFence(m.content));
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
