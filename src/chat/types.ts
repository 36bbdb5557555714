/*
 * The shapes the chat service hands to the views: here, not in a service or a view, so both can
 * import them without importing each other.
 */
import type { Chat, Message } from "../db/schema.ts";
import type { FileInfo } from "../files/types.ts";

/** Where a message sits among its siblings (those with the same parent), for the ‹ 2 / 3 › switch. */
export type Siblings = { index: number; count: number; previous?: string; next?: string };

/** What streamed so far of an answer being written: finished blocks and the open tail (HTML). */
export type LiveText = {
  safeBlocks: string[];
  safeTail: string;
  reasoning: string;
  /** How long the model has reasoned so far, in ms: until its answer began, or until now. */
  thinkingMs: number;
  /** Whether its answer has begun (the thinking is over). */
  thought: boolean;
};

/** A message as the page shows it: a finished answer's HTML, or what streamed so far. */
export type ShownMessage = {
  message: Message;
  safeHtml?: string;
  live?: LiveText;
  siblings?: Siblings;
  /** The files sent with it. */
  attachments?: FileInfo[];
};

/**
 * A page of a person's chat list (the first also with the pinned chats, listed above the rest),
 * which of its chats are being answered, and the chat the next page follows.
 */
export type ChatList = { pinned: Chat[]; chats: Chat[]; generating: Set<string>; more?: string };
