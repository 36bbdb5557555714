import { FENCE } from "../chat/markdown.ts";
import type { Chat, Message } from "../db/schema.ts";

const NOTE: Partial<Record<Message["status"], string>> = {
  streaming: "Still being written when exported.",
  stopped: "Stopped.",
  interrupted: "Interrupted: the server stopped while writing this answer.",
};

/**
 * A chat as one Markdown document: its title, then each message under a heading that names who
 * wrote it (and the model, for answers), its text exactly as written. Reasoning is left out.
 */
export function chatMarkdown(chat: Chat, messages: Message[]): string {
  const parts = [
    `# ${oneLine(chat.title) || "New chat"}`,
    `*${chat.model} · ${chat.createdAt.toISOString().slice(0, 10)}*`,
  ];
  for (const m of messages) {
    parts.push(m.role === "user" ? "## You" : `## Assistant${m.model ? ` (${oneLine(m.model)})` : ""}`);
    if (m.content) parts.push(closeFence(m.content));
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
