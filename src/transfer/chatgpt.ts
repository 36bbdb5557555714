import { NO_SETTINGS } from "../chat/settings.ts";
import {
  boundedMessage,
  chatLabel,
  type Fields,
  ImportError,
  type ImportedChat,
  type ImportedMessage,
  isObject,
  MAX_MODEL_LENGTH,
  MAX_TITLE_LENGTH,
  own,
  pacer,
  quoted,
  reader,
  refuseTooManyChats,
  storableText,
  tally,
} from "./read.ts";

/*
 * ChatGPT's data export (Settings → Data controls → Export), its `conversations.json`: a list of
 * conversations, each a tree of messages (`mapping`: node id → { message, parent, children }),
 * where editing a message or regenerating an answer starts a branch. `current_node` is the end
 * of the branch that was on screen; it is read back to the root through `parent` links.
 *
 * Kept: the person's and the model's text (`content_type` "text", or the text parts of
 * "multimodal_text"). Skipped: system and tool messages, the model's calls to tools (a
 * `recipient` other than "all"), messages ChatGPT hides (custom instructions, ...), and parts
 * that are not text (images, files, code run by tools, "thoughts").
 */

/** A branch longer than this (hidden and tool nodes count) is not a conversation but junk. */
const MAX_BRANCH_NODES = 100_000;

/** True for what looks like ChatGPT's list of conversations (checked in detail when read). */
export function looksLikeChatGpt(doc: unknown): doc is unknown[] {
  return Array.isArray(doc);
}

/**
 * The conversations as chats, each with the messages of its current branch. Conversations with
 * no text message left are skipped (and counted). Throws ImportError at the first problem.
 */
export async function readChatGpt(list: unknown[], model: string): Promise<{ chats: ImportedChat[]; skipped: number }> {
  refuseTooManyChats(list.length);
  const seen = tally();
  const pace = pacer();
  const chats: ImportedChat[] = [];
  let skipped = 0;
  for (const [i, raw] of list.entries()) {
    if (!isObject(raw) || !isObject(own(raw, "mapping"))) {
      throw new ImportError(
        `Item ${i + 1} of the list is not a ChatGPT conversation (it has no mapping of messages); the file is neither a Parley export nor ChatGPT's conversations.json.`,
      );
    }
    const where = chatLabel("Conversation", i, own(raw, "title"));
    const conversation = reader(where, raw);
    const title = (conversation.text("title", MAX_TITLE_LENGTH) ?? "").replace(/\s+/g, " ").trim();
    const createdAt = conversation.time("create_time", "seconds") ?? new Date();
    const defaultSlug = conversation.text("default_model_slug", MAX_MODEL_LENGTH) ?? null;
    const messages: ImportedMessage[] = [];
    for (const node of branch(where, raw)) {
      if (pace.due()) await pace.turn();
      const message = own(node, "message");
      if (message === null || message === undefined) continue;
      if (!isObject(message)) conversation.refuse("has a message that is not an object");
      // Times are often missing (the root, system messages): the one before stands in.
      const previous = messages.at(-1)?.createdAt ?? createdAt;
      const kept = readMessage(`${where}, message ${messages.length + 1},`, message as Fields, defaultSlug, previous);
      if (!kept) continue;
      seen.message();
      messages.push(kept);
    }
    if (!messages.length) {
      skipped++;
      continue;
    }
    const updatedAt = conversation.time("update_time", "seconds") ?? messages.at(-1)!.createdAt;
    chats.push({ title, model, settings: NO_SETTINGS, createdAt, updatedAt, messages });
  }
  return { chats, skipped };
}

/**
 * The nodes from the root to `current_node`, in reading order. Every step checks that the node
 * exists (as the mapping's own key), is an object, and was not seen before: a `parent` loop is
 * refused, not followed forever.
 */
function branch(where: string, conversation: Fields): Fields[] {
  const mapping = own(conversation, "mapping") as Fields;
  const refuse = (problem: string): never => {
    throw new ImportError(`${where} ${problem}.`);
  };
  let id = own(conversation, "current_node");
  if (typeof id !== "string") return refuse("has no current_node naming the message it ends at");
  const nodes: Fields[] = [];
  const visited = new Set<string>();
  while (id !== null && id !== undefined) {
    if (typeof id !== "string") return refuse("has a parent that is not a node id");
    if (visited.has(id)) return refuse("has messages whose parents form a loop");
    if (visited.size >= MAX_BRANCH_NODES) return refuse(`has a branch of more than ${MAX_BRANCH_NODES} messages`);
    visited.add(id);
    const node = own(mapping, id);
    if (!isObject(node)) return refuse(`names the message ${quoted(id)}, which is not in its mapping`);
    nodes.push(node);
    id = own(node, "parent");
  }
  return nodes.reverse();
}

const STATUS: Record<string, ImportedMessage["status"]> = {
  finished_successfully: "complete",
  finished_partial_completion: "stopped",
  in_progress: "interrupted",
};

/** One node's message, if it is a user's or the model's visible text; undefined for what is skipped. */
function readMessage(
  where: string,
  message: Fields,
  defaultSlug: string | null,
  previous: Date,
): ImportedMessage | undefined {
  const m = reader(where, message);
  const author = own(message, "author");
  if (!isObject(author)) return m.refuse("has no author");
  const role = own(author, "role");
  if (typeof role !== "string") return m.refuse("has an author with no role");
  if (role !== "user" && role !== "assistant") return undefined;
  const metadata = own(message, "metadata");
  const meta = isObject(metadata) ? metadata : {};
  if (own(meta, "is_visually_hidden_from_conversation") === true) return undefined;
  const recipient = own(message, "recipient");
  if (recipient !== undefined && recipient !== null && recipient !== "all") return undefined;
  const content = own(message, "content");
  if (!isObject(content)) return m.refuse("has no content");
  const type = own(content, "content_type");
  if (type !== "text" && type !== "multimodal_text") return undefined;
  const parts = own(content, "parts");
  if (!Array.isArray(parts)) return m.refuse("has content with no list of parts");
  const text = storableText(parts.filter((part) => typeof part === "string").join("\n\n"));
  if (!text.trim()) return undefined;
  const status = own(message, "status");
  const createdAt = m.time("create_time", "seconds") ?? previous;
  const answer = role === "assistant";
  return boundedMessage(m, {
    role,
    content: text,
    reasoning: null,
    status: (typeof status === "string" && Object.hasOwn(STATUS, status) && STATUS[status]) || "complete",
    model: answer ? (reader(where, meta).text("model_slug", MAX_MODEL_LENGTH) ?? defaultSlug) : null,
    error: null,
    finishReason: answer ? finishReason(own(meta, "finish_details")) : null,
    promptTokens: null,
    completionTokens: null,
    reasoningTokens: null,
    cachedTokens: null,
    cost: null,
    createdAt,
    finishedAt: answer ? createdAt : null,
  });
}

/** ChatGPT's `finish_details.type` in the words the app shows ("length": cut off). */
function finishReason(details: unknown): string | null {
  const type = isObject(details) ? own(details, "type") : undefined;
  return type === "max_tokens" ? "length" : type === "stop" ? "stop" : null;
}
