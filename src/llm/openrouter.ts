import OpenAI, { APIError } from "openai";
import { type Config, publicUrl } from "../config.ts";
import type { PdfEngine } from "../db/schema.ts";
import type { FileAnnotation } from "./annotations.ts";
import { type ChunkEvent, chunkEvents, type Usage } from "./chunks.ts";
import { completionChunks } from "./sse.ts";
import { upstreamFetch } from "./transport.ts";
import { midStreamError, retryDelay, retryReason, toUpstreamError, UpstreamError } from "./upstream-errors.ts";

/**
 * A piece of a message as OpenRouter takes it: text, an image (a data URL: OpenRouter cannot
 * fetch from a self-hosted server), or a file (a PDF, as a data URL, read by the file-parser plugin).
 */
export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "file"; file: { filename: string; file_data: string } };

/** A tool call the model made, as the request carries it back on the assistant's turn. */
export type ToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

/**
 * A message of the request; an assistant's may carry the parse annotations of its PDFs (see
 * annotations.ts), and within one answer the tool calls it made, each answered by a "tool" turn.
 */
export type ChatTurn = {
  role: "system" | "user" | "assistant" | "tool";
  content: string | ContentPart[];
  annotations?: FileAnnotation[];
  tool_calls?: ToolCall[];
  tool_call_id?: string;
};

/** A tool the model may call: OpenAI's function definition (an MCP tool's name, description and input schema). */
export type ToolDefinition = { name: string; description: string; parameters: Record<string, unknown> };
/** A message of text alone (a title's request). */
export type TextTurn = ChatTurn & { content: string };

export type { Usage };

/** What one streamed answer yields: maybe retries first, then text, reasoning and images, usage, its end. */
export type StreamEvent =
  | { type: "retrying"; attempt: number; attempts: number; delayMs: number; reason: string }
  | Exclude<ChunkEvent, { type: "failed" }>;

export type Model = {
  id: string;
  name: string;
  contextLength: number | null;
  /** US dollars per million tokens, when the upstream says. */
  promptPrice?: number | null;
  completionPrice?: number | null;
  /**
   * The request parameters the model takes, as OpenRouter lists them (temperature, max_tokens,
   * reasoning, ...); undefined when unknown (a model missing from the list, or no list at all).
   */
  supportedParameters?: string[];
  /** What the model reads and writes ("text", "image", "file", "audio"...); undefined when unknown. */
  inputModalities?: string[];
  outputModalities?: string[];
};

/** How an answer is asked for beyond its messages; absent means the model's default. */
export type AnswerParams = {
  temperature?: number;
  maxTokens?: number;
  reasoningEffort?: "low" | "medium" | "high";
  /** How OpenRouter reads PDFs in the request (its file-parser plugin); only sent when one is attached. */
  pdfEngine?: PdfEngine;
  /** What the answer may hold: `["image", "text"]` asks an image-output model for pictures (see imageOutput). */
  modalities?: Modality[];
  /** Search the web first (see WebSearch). */
  webSearch?: WebSearch;
  /** Tools (over MCP) the model may call; the answer's tool loop runs them (see generations.ts). */
  tools?: ToolDefinition[];
  /** Tool calls one answer may make (not sent upstream: the loop counts them). */
  maxToolCalls?: number;
};

/**
 * OpenRouter's web search: its `openrouter:web_search` server tool for a model that calls tools
 * (the model decides what to search for, and how often), else its older `web` plugin (one search
 * of the conversation, before the answer), which works with every model. "auto" sends no engine:
 * OpenRouter picks the model's own search where it has one.
 */
export type WebSearch = { engine: "auto" | "native" | "exa" | "parallel"; maxResults: number; asTool: boolean };

/**
 * What OpenRouter charges per web result with Exa (its default engine: $4 per 1,000), for the
 * estimate a spending limit reserves; the answer's reported cost, search included, replaces it.
 */
export const WEB_RESULT_PRICE = 0.004;

export type Modality = "image" | "text";

/** The parameters that ask a model for images in its answer, when its output modalities include images. */
export function imageOutput(model: Pick<Model, "outputModalities"> | undefined): Pick<AnswerParams, "modalities"> {
  return model?.outputModalities?.includes("image") ? { modalities: ["image", "text"] } : {};
}

/**
 * OpenRouter's names for the PDF engines: its free text extraction ("pdf-text" until it was
 * renamed "cloudflare-ai"), Mistral's OCR (paid per page), or the model's own reading.
 */
export const OPENROUTER_PDF_ENGINES: Record<PdfEngine, string> = {
  text: "cloudflare-ai",
  ocr: "mistral-ocr",
  native: "native",
};

export const NO_API_KEY =
  "No API key is set: start Parley with OPENROUTER_API_KEY in its environment to get answers. Your message is saved.";

/** The OpenAI-compatible API behind OPENROUTER_BASE_URL. */
export type Upstream = {
  readonly hasKey: boolean;
  stream(req: {
    model: string;
    messages: ChatTurn[];
    params?: AnswerParams;
    signal: AbortSignal;
  }): AsyncIterable<StreamEvent>;
  /** A short answer, not streamed (a chat's title), with what it used when the upstream says. */
  complete(req: {
    model: string;
    messages: TextTurn[];
    maxTokens: number;
    signal?: AbortSignal;
  }): Promise<{ text: string; usage?: Usage }>;
  models(): Promise<Model[]>;
  /**
   * A client's own chat completion request sent on as it is (the /v1 API): the raw response, a
   * JSON body or an SSE stream to read with `completionChunks`. Throws the SDK's APIError for an
   * error status, its message cleared of the key.
   */
  passThrough(body: Record<string, unknown>, signal: AbortSignal): Promise<Response>;
};

export type UpstreamTiming = {
  /** No byte at all for this long (not even a keep-alive comment) and the answer is given up. */
  stallMs: number;
  /** Retries of a failed request before the first token (408, 429, 502, 503, network). */
  maxRetries: number;
  /** First retry delay; doubled each time, with full jitter, unless Retry-After says otherwise. */
  retryBaseMs: number;
};

export function createUpstream(config: Config, timing: Partial<UpstreamTiming> = {}): Upstream {
  const { stallMs, maxRetries, retryBaseMs } = {
    stallMs: config.upstreamStallTimeout,
    maxRetries: config.upstreamMaxRetries,
    retryBaseMs: 1000,
    ...timing,
  };
  const hasKey = Boolean(config.openrouterApiKey);
  // One client for every request (making one per answer was ~5% of the CPU of a burst of sends).
  // A streamed answer's request carries `onBytes` in its fetch options, which the SDK hands on
  // to fetch: every byte that arrives is reported, so a silent stream can be told from a slow one.
  const api = new OpenAI({
    apiKey: config.openrouterApiKey ?? "unset",
    baseURL: config.openrouterBaseUrl,
    maxRetries: 0,
    timeout: 10 * 60_000,
    // OpenRouter's app attribution: which site and app sent the request.
    defaultHeaders: { "HTTP-Referer": publicUrl(config), "X-Title": "Parley", "X-OpenRouter-Title": "Parley" },
    fetch: (url, { onBytes, ...init }: Watched = {}) => upstreamFetch(url, init, onBytes),
  });
  // An upstream (or a proxy before it) that echoes the key in an error must not put it on a page or in a log.
  const key = config.openrouterApiKey;
  const scrub = <E extends Error>(err: E): E => {
    if (key && err.message.includes(key)) err.message = err.message.replaceAll(key, "[API key]");
    const body = err instanceof APIError ? (err.error as { message?: unknown } | undefined) : undefined;
    if (key && typeof body?.message === "string") body.message = body.message.replaceAll(key, "[API key]");
    return err;
  };

  return {
    hasKey,
    async *stream({ model, messages, params = {}, signal }) {
      if (!hasKey) throw new UpstreamError(NO_API_KEY, "no_key");
      const stall = new AbortController();
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Bytes arrive many times a second per answer: they only note the time, and the one timer
      // re-arms itself for what is left when it fires (clearing and setting a timer per chunk cost
      // a few percent of the CPU with 1,000 answers streaming).
      let lastBytes = 0;
      const check = () => {
        const quiet = performance.now() - lastBytes;
        timer = quiet >= stallMs ? undefined : setTimeout(check, stallMs - quiet);
        if (!timer) stall.abort();
      };
      const alive = () => {
        lastBytes = performance.now();
        timer ??= setTimeout(check, stallMs);
      };
      const unwatched = () => {
        clearTimeout(timer);
        timer = undefined;
      };
      const both = AbortSignal.any([signal, stall.signal]);
      const stalled = () =>
        new UpstreamError(`The model stopped responding (nothing for ${Math.round(stallMs / 1000)} s).`, "stall");
      // Outside the SDK's type for fetch options, which it passes on to fetch as they are.
      const watched = { onBytes: alive } as OpenAI.RequestOptions["fetchOptions"];
      try {
        let stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk> | undefined;
        for (let attempt = 1; !stream; attempt++) {
          alive();
          try {
            const response = await api.chat.completions
              .create(
                {
                  model,
                  // Parts are checked where they are made (the send pipeline): each role gets only what it takes.
                  messages: messages as OpenAI.Chat.ChatCompletionMessageParam[],
                  stream: true,
                  stream_options: { include_usage: true },
                  ...requestParams(params),
                },
                { signal: both, fetchOptions: watched },
              )
              .asResponse();
            stream = completionChunks(response);
          } catch (err) {
            if (signal.aborted) return;
            if (stall.signal.aborted) throw stalled();
            const wait = retryDelay(err, attempt, maxRetries, retryBaseMs);
            if (wait === undefined) throw scrub(toUpstreamError(err));
            unwatched();
            yield {
              type: "retrying",
              attempt: attempt + 1,
              attempts: maxRetries + 1,
              delayMs: wait,
              reason: retryReason(err),
            };
            if (!(await sleep(wait, signal))) return;
          }
        }
        let finished = false;
        try {
          for await (const chunk of stream) {
            for (const event of chunkEvents(chunk)) {
              if (event.type === "failed") {
                throw new UpstreamError(
                  `The model's provider failed mid-answer${event.reason ? `: ${event.reason.slice(0, 300)}` : "."}`,
                  "midstream",
                );
              }
              if (event.type === "finish") finished = true;
              yield event;
            }
          }
        } catch (err) {
          if (signal.aborted) return;
          if (stall.signal.aborted) throw stalled();
          throw scrub(midStreamError(err));
        }
        if (signal.aborted) return;
        if (stall.signal.aborted) throw stalled();
        // openai 6.x ends the loop quietly when the connection ends; without a finish it dropped.
        if (!finished) throw new UpstreamError("The connection to the model dropped mid-answer.", "dropped");
      } finally {
        unwatched();
      }
    },
    async complete({ model, messages, maxTokens, signal }) {
      if (!hasKey) throw new UpstreamError(NO_API_KEY, "no_key");
      try {
        const res = await api.chat.completions.create(
          { model, messages: messages as OpenAI.Chat.ChatCompletionMessageParam[], max_tokens: maxTokens },
          { signal },
        );
        const used = res.usage as (typeof res.usage & { cost?: number }) | undefined;
        const usage = used && {
          promptTokens: used.prompt_tokens,
          completionTokens: used.completion_tokens,
          reasoningTokens: null,
          cachedTokens: null,
          cost: used.cost ?? null,
        };
        return { text: res.choices[0]?.message?.content ?? "", usage };
      } catch (err) {
        throw scrub(toUpstreamError(err));
      }
    },
    async passThrough(body, signal) {
      if (!hasKey) throw new UpstreamError(NO_API_KEY, "no_key");
      try {
        return await api.chat.completions
          .create(body as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming, { signal })
          .asResponse();
      } catch (err) {
        throw scrub(err instanceof Error ? err : new Error(String(err)));
      }
    },
    async models() {
      const list = await api.models.list().catch((err) => {
        throw scrub(err instanceof Error ? err : new Error(String(err)));
      });
      return list.data.map((m) => {
        const extra = m as unknown as {
          name?: string;
          context_length?: number;
          pricing?: { prompt?: string; completion?: string };
          supported_parameters?: unknown;
          architecture?: { input_modalities?: unknown; output_modalities?: unknown };
        };
        const supported = extra.supported_parameters;
        return {
          id: m.id,
          name: extra.name ?? m.id,
          contextLength: extra.context_length ?? null,
          promptPrice: perMillion(extra.pricing?.prompt),
          completionPrice: perMillion(extra.pricing?.completion),
          supportedParameters: strings(supported),
          inputModalities: strings(extra.architecture?.input_modalities),
          outputModalities: strings(extra.architecture?.output_modalities),
        };
      });
    },
  };
}

const strings = (value: unknown) => (Array.isArray(value) ? value.map(String) : undefined);

/** The request's fields for the parameters that are set, in OpenRouter's names. */
function requestParams({
  temperature,
  maxTokens,
  reasoningEffort,
  pdfEngine,
  modalities,
  webSearch,
  tools: functions,
}: AnswerParams) {
  // OpenRouter's plugins and server tools, outside the OpenAI request type.
  const plugins: object[] = [];
  if (pdfEngine !== undefined) plugins.push({ id: "file-parser", pdf: { engine: OPENROUTER_PDF_ENGINES[pdfEngine] } });
  const tools: object[] = [];
  if (webSearch) {
    const engine = webSearch.engine === "auto" ? {} : { engine: webSearch.engine };
    // The plugin knows no "parallel": there it is left to OpenRouter's choice.
    const pluginEngine = webSearch.engine === "native" || webSearch.engine === "exa" ? engine : {};
    if (webSearch.asTool)
      tools.push({ type: "openrouter:web_search", parameters: { ...engine, max_results: webSearch.maxResults } });
    else plugins.push({ id: "web", ...pluginEngine, max_results: webSearch.maxResults });
  }
  for (const fn of functions ?? []) tools.push({ type: "function", function: fn });
  return {
    // OpenRouter's output modalities, outside the OpenAI request type (whose `modalities` is "text" | "audio").
    ...(modalities === undefined ? {} : ({ modalities } as object)),
    ...(plugins.length ? ({ plugins } as object) : {}),
    ...(tools.length ? ({ tools } as object) : {}),
    ...(temperature === undefined ? {} : { temperature }),
    ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }),
    // OpenRouter's unified reasoning setting, outside the OpenAI request type.
    ...(reasoningEffort === undefined ? {} : ({ reasoning: { effort: reasoningEffort } } as object)),
  };
}

function perMillion(perToken: string | undefined): number | null {
  const value = Number(perToken);
  return perToken === undefined || !Number.isFinite(value) || value < 0 ? null : value * 1_000_000;
}

/** A request's fetch options with whom to tell when its bytes arrive (see createUpstream). */
type Watched = RequestInit & { onBytes?: () => void };

/** Resolves true after `ms`, or false as soon as the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => resolve(true), ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve(false);
      },
      { once: true },
    );
  });
}
