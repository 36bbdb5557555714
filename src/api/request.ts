import { MAX_TEMPERATURE } from "../limits.ts";

/**
 * The largest request body /v1/chat/completions takes: about a million tokens of text, more than
 * any model's context, or a few images as data URLs. The rest of the app takes 1 MiB (app.ts).
 */
export const MAX_API_BODY_BYTES = 4 * 1024 * 1024;
const MAX_MESSAGES = 2_000;
const MAX_MODEL_ID = 200;
const ROLES = new Set(["system", "developer", "user", "assistant", "tool"]);

/** A chat completion request that passed the checks, as it goes upstream. */
export type ApiRequest = {
  /** The client's body, with the usage asked for when streaming (to settle what it cost). */
  upstreamBody: Record<string, unknown>;
  model: string;
  stream: boolean;
  /** Whether the client itself asked for the usage chunk (`stream_options.include_usage`). */
  clientWantsUsage: boolean;
  /** The request's size in characters, for the cost estimate. */
  size: number;
  /** The most tokens the client allows the answer, when it says. */
  maxTokens: number | undefined;
};

/** A refusal of the body: the sentence, and the field it is about. */
export type BodyRefusal = { refused: string; param?: string };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Checks what Parley relies on (the model, the messages, the parameters it counts or that the
 * upstream would refuse less clearly) and passes every other field through as it came.
 */
export function parseChatRequest(text: string): ApiRequest | BodyRefusal {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { refused: "The request body must be JSON: a chat completion request with model and messages." };
  }
  if (!isObject(body)) return { refused: "The request body must be a JSON object with model and messages." };
  const { model, messages, stream, stream_options: options } = body;
  if (typeof model !== "string" || !model.trim()) {
    return { refused: "Name the model to use in the model field, e.g. “openai/gpt-4o-mini”.", param: "model" };
  }
  if (model.length > MAX_MODEL_ID)
    return { refused: "The model field is too long to be a model's name.", param: "model" };
  if (!Array.isArray(messages) || messages.length === 0) {
    return { refused: "The messages field must be a list of at least one message.", param: "messages" };
  }
  if (messages.length > MAX_MESSAGES) {
    return { refused: `A request can carry at most ${MAX_MESSAGES.toLocaleString("en")} messages.`, param: "messages" };
  }
  for (const [i, m] of messages.entries()) {
    const problem = messageProblem(m);
    if (problem) return { refused: `Message ${i + 1}: ${problem}`, param: `messages[${i}]` };
  }
  if (stream !== undefined && typeof stream !== "boolean") {
    return { refused: "The stream field must be true or false.", param: "stream" };
  }
  if (options !== undefined && !isObject(options)) {
    return { refused: "The stream_options field must be an object.", param: "stream_options" };
  }
  const temperature = body.temperature;
  if (
    temperature !== undefined &&
    temperature !== null &&
    (typeof temperature !== "number" || temperature < 0 || temperature > MAX_TEMPERATURE)
  ) {
    return { refused: `The temperature must be a number from 0 to ${MAX_TEMPERATURE}.`, param: "temperature" };
  }
  let maxTokens: number | undefined;
  for (const field of ["max_tokens", "max_completion_tokens"]) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      return { refused: `The ${field} field must be a whole number of at least 1.`, param: field };
    }
    maxTokens = Math.min(maxTokens ?? value, value);
  }
  const streaming = stream === true;
  const clientWantsUsage = options?.include_usage === true;
  const upstreamBody = streaming ? { ...body, stream_options: { ...options, include_usage: true } } : body;
  return { upstreamBody, model, stream: streaming, clientWantsUsage, size: text.length, maxTokens };
}

/** What is wrong with one message, or undefined. */
function messageProblem(m: unknown): string | undefined {
  if (!isObject(m)) return "each message must be an object with a role and content.";
  if (typeof m.role !== "string" || !ROLES.has(m.role)) {
    return "the role must be one of system, developer, user, assistant or tool.";
  }
  const { content } = m;
  if (typeof content === "string") return undefined;
  if (Array.isArray(content)) {
    const bad = content.findIndex((p) => !isObject(p) || typeof p.type !== "string");
    return bad < 0 ? undefined : `part ${bad + 1} of the content must be an object with a type (text, image_url, ...).`;
  }
  // An assistant's turn that only called tools has no content.
  if ((content === null || content === undefined) && m.role === "assistant") return undefined;
  return "the content must be text or a list of parts.";
}
