import OpenAI, { APIError, APIUserAbortError } from "openai";
import { type Config, publicUrl } from "../config.ts";

export type ChatTurn = { role: "system" | "user" | "assistant"; content: string };

export type Usage = { promptTokens: number; completionTokens: number; cost: number | null };

/** What one streamed answer yields, in order: text deltas, then perhaps usage, then its end. */
export type StreamEvent =
  | { type: "delta"; content: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: string };

export type Model = { id: string; name: string; contextLength: number | null };

/** An upstream failure, phrased for the person reading the chat. */
export class UpstreamError extends Error {}

export const NO_API_KEY =
  "No API key is set: start Parley with OPENROUTER_API_KEY in its environment to get answers. Your message is saved.";

/** The OpenAI-compatible API behind OPENROUTER_BASE_URL. */
export type Upstream = {
  readonly hasKey: boolean;
  stream(req: { model: string; messages: ChatTurn[]; signal: AbortSignal }): AsyncIterable<StreamEvent>;
  complete(req: { model: string; messages: ChatTurn[]; maxTokens: number; signal?: AbortSignal }): Promise<string>;
  models(): Promise<Model[]>;
};

export function createUpstream(config: Config): Upstream {
  const client = new OpenAI({
    apiKey: config.openrouterApiKey ?? "unset",
    baseURL: config.openrouterBaseUrl,
    maxRetries: 0,
    timeout: 120_000,
    // OpenRouter's app attribution: which site and app sent the request.
    defaultHeaders: { "HTTP-Referer": publicUrl(config), "X-Title": "Parley", "X-OpenRouter-Title": "Parley" },
  });
  const hasKey = Boolean(config.openrouterApiKey);

  return {
    hasKey,
    async *stream({ model, messages, signal }) {
      if (!hasKey) throw new UpstreamError(NO_API_KEY);
      let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>;
      try {
        stream = await client.chat.completions.create(
          { model, messages, stream: true, stream_options: { include_usage: true } },
          { signal },
        );
      } catch (err) {
        throw toUpstreamError(err);
      }
      let finished = false;
      try {
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          const content = choice?.delta?.content;
          if (content) yield { type: "delta", content };
          if (choice?.finish_reason) {
            finished = true;
            // OpenRouter's own finish reason, outside the OpenAI type.
            if ((choice.finish_reason as string) === "error")
              throw new UpstreamError("The model's provider failed mid-answer.");
            yield { type: "finish", reason: choice.finish_reason };
          }
          const usage = chunk.usage as (OpenAI.CompletionUsage & { cost?: number }) | undefined | null;
          if (usage) {
            yield {
              type: "usage",
              usage: {
                promptTokens: usage.prompt_tokens,
                completionTokens: usage.completion_tokens,
                cost: usage.cost ?? null,
              },
            };
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        throw midStreamError(err);
      }
      // openai 6.x ends the loop quietly when aborted; a quiet end without a finish is a drop.
      if (!finished && !signal.aborted) throw new UpstreamError("The connection to the model dropped mid-answer.");
    },
    async complete({ model, messages, maxTokens, signal }) {
      if (!hasKey) throw new UpstreamError(NO_API_KEY);
      try {
        const res = await client.chat.completions.create({ model, messages, max_tokens: maxTokens }, { signal });
        return res.choices[0]?.message?.content ?? "";
      } catch (err) {
        throw toUpstreamError(err);
      }
    },
    async models() {
      const list = await client.models.list();
      return list.data.map((m) => {
        const extra = m as unknown as { name?: string; context_length?: number };
        return { id: m.id, name: extra.name ?? m.id, contextLength: extra.context_length ?? null };
      });
    },
  };
}

/** One plain sentence per kind of failure; the upstream's own reason where it gives one. */
export function toUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIUserAbortError) return new UpstreamError("The request was stopped.");
  if (err instanceof APIError) {
    const reason = upstreamReason(err);
    switch (err.status) {
      case 400:
        return new UpstreamError(`The model refused the request: ${reason}`);
      case 401:
        return new UpstreamError("The API key was rejected: check OPENROUTER_API_KEY.");
      case 402:
        return new UpstreamError("The OpenRouter account is out of credits: add credits and retry.");
      case 403:
        return new UpstreamError(`The request was blocked by moderation: ${reason}`);
      case 404:
        return new UpstreamError(`The model was not found: ${reason}`);
      case 408:
      case 504:
        return new UpstreamError("The model took too long to answer; retry in a moment.");
      case 429:
        return new UpstreamError("The model is rate-limited right now; retry in a moment.");
      case 502:
      case 503:
        return new UpstreamError("The model's provider is unavailable right now; retry in a moment.");
      default:
        if (err.status === undefined) return new UpstreamError(`The model could not be reached: ${reason}`);
        return new UpstreamError(`The model failed (${err.status}): ${reason}`);
    }
  }
  return new UpstreamError(`The model could not be reached: ${(err as Error)?.message ?? String(err)}`);
}

/** After HTTP 200, an error object in the stream or a broken connection. */
function midStreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIError)
    return new UpstreamError(`The model's provider failed mid-answer: ${upstreamReason(err)}`);
  return new UpstreamError("The connection to the model dropped mid-answer.");
}

function upstreamReason(err: APIError): string {
  const body = err.error as { message?: string } | undefined;
  return (body?.message ?? err.message ?? "no reason given").slice(0, 500);
}
