import type OpenAI from "openai";
import { type FileAnnotation, fileAnnotations } from "./annotations.ts";
import { type Source, urlCitations } from "./citations.ts";

/*
 * What one chunk of OpenRouter's streamed chat completion says, as events: reasoning, text,
 * images, the finish and the usage. The wire format is OpenAI's, plus OpenRouter's fields:
 * `delta.reasoning` (with `delta.reasoning_details`, which some providers send alone), `delta.images` (an image-output model's pictures, asked for with
 * `modalities: ["image", "text"]`), `delta.annotations` (what the file-parser read from the
 * request's PDFs, and the url citations of a web search), `usage.cost`, and a finish of "error"
 * with the chunk's `error`.
 */

export type Usage = {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number | null;
  cachedTokens: number | null;
  cost: number | null;
};

/**
 * What a chunk carries. An image is its `url` as sent: a data URL
 * (`data:image/png;base64,...`) when well formed; "" when the entry had no URL at all, so that the
 * image is still accounted for (and the person told it was left out).
 */
export type ChunkEvent =
  | { type: "delta"; content: string }
  | { type: "reasoning"; content: string }
  | { type: "image"; url: string }
  /** OpenRouter's parse of PDFs in the request, to send back later (see annotations.ts). */
  | { type: "annotations"; annotations: FileAnnotation[] }
  /** The pages a web search found that the answer cites (see citations.ts). */
  | { type: "sources"; sources: Source[] }
  /** A piece of a tool call the model makes: its first piece has its id and name, the rest its arguments' text. */
  | { type: "toolCall"; index: number; id?: string; name?: string; arguments?: string }
  | { type: "usage"; usage: Usage }
  | { type: "finish"; reason: string }
  /** The provider failed mid-answer (OpenRouter's finish reason "error"), with its reason when it gave one. */
  | { type: "failed"; reason: string | undefined };

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
/** A delta with OpenRouter's fields, outside the OpenAI type. */
type Delta = {
  content?: string | null;
  reasoning?: string | null;
  reasoning_details?: unknown;
  images?: unknown;
  annotations?: unknown;
  tool_calls?: unknown;
};

/** The events of one chunk, in the order they apply. */
export function* chunkEvents(chunk: Chunk): Generator<ChunkEvent> {
  const choice = chunk.choices[0];
  const delta = choice?.delta as Delta | undefined;
  // Postgres text cannot hold NUL; a model that emits one must not make its answer unsavable.
  const reasoning = delta?.reasoning || detailsText(delta?.reasoning_details);
  if (reasoning) yield { type: "reasoning", content: reasoning.replaceAll("\0", "") };
  if (delta?.content) yield { type: "delta", content: delta.content.replaceAll("\0", "") };
  if (Array.isArray(delta?.images)) for (const image of delta.images) yield { type: "image", url: imageUrl(image) };
  const annotations = fileAnnotations(delta?.annotations);
  if (annotations.length) yield { type: "annotations", annotations };
  const sources = urlCitations(delta?.annotations);
  if (sources.length) yield { type: "sources", sources };
  for (const call of toolCalls(delta?.tool_calls)) yield call;
  if (choice?.finish_reason) {
    if ((choice.finish_reason as string) === "error") {
      const reason = (chunk as { error?: { message?: unknown } }).error?.message;
      yield { type: "failed", reason: typeof reason === "string" && reason ? reason : undefined };
      return;
    }
    yield { type: "finish", reason: choice.finish_reason };
  }
  if (chunk.usage) yield { type: "usage", usage: toUsage(chunk.usage) };
}

/**
 * The readable text of OpenRouter's `reasoning_details` (`reasoning.text` and `reasoning.summary`
 * entries; `reasoning.encrypted` ones hold nothing to show), for a delta without `reasoning`.
 */
function detailsText(details: unknown): string {
  if (!Array.isArray(details)) return "";
  return details
    .map((d: { type?: unknown; text?: unknown; summary?: unknown }) =>
      d?.type === "reasoning.text" && typeof d.text === "string"
        ? d.text
        : d?.type === "reasoning.summary" && typeof d.summary === "string"
          ? d.summary
          : "",
    )
    .join("");
}

/** The tool call pieces of a delta (OpenAI's `tool_calls`: index, id and name first, then arguments). */
function toolCalls(raw: unknown): Extract<ChunkEvent, { type: "toolCall" }>[] {
  if (!Array.isArray(raw)) return [];
  return raw.flatMap((c: { index?: unknown; id?: unknown; function?: { name?: unknown; arguments?: unknown } }) => {
    if (typeof c?.index !== "number") return [];
    const fn = c.function;
    return [
      {
        type: "toolCall" as const,
        index: c.index,
        ...(typeof c.id === "string" && c.id ? { id: c.id } : {}),
        ...(typeof fn?.name === "string" && fn.name ? { name: fn.name } : {}),
        ...(typeof fn?.arguments === "string" ? { arguments: fn.arguments } : {}),
      },
    ];
  });
}

/** `{type: "image_url", image_url: {url}}`'s URL; "" for an entry of another shape. */
function imageUrl(image: unknown): string {
  const url = (image as { image_url?: { url?: unknown } } | null)?.image_url?.url;
  return typeof url === "string" ? url : "";
}

type RawUsage = OpenAI.CompletionUsage & { cost?: number };
function toUsage(raw: RawUsage): Usage {
  return {
    promptTokens: raw.prompt_tokens,
    completionTokens: raw.completion_tokens,
    reasoningTokens: raw.completion_tokens_details?.reasoning_tokens ?? null,
    cachedTokens: raw.prompt_tokens_details?.cached_tokens ?? null,
    cost: raw.cost ?? null,
  };
}
