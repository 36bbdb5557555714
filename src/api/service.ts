import type OpenAI from "openai";
import type { Database } from "../db/client.ts";
import type { Model, Upstream } from "../llm/openrouter.ts";
import { completionChunks } from "../llm/sse.ts";
import type { Logger } from "../log.ts";
import { allowedModels } from "../teams/access.ts";
import { CHARS_PER_TOKEN, costOf, reserve, SpendingRefused, settle } from "../teams/spending.ts";
import { type ApiErrorBody, apiError, upstreamFailure } from "./errors.ts";
import type { ApiRequest } from "./request.ts";

/** Who a /v1 request is for: the key's owner and the key. */
export type Caller = { userId: string; keyId: string };

/**
 * The answer counted before its usage is known, when the client sets no max_tokens: enough for a
 * long answer (editors ask for long ones), not the model's whole context (which would refuse
 * anyone near a limit).
 */
const ASSUMED_ANSWER_TOKENS = 4_096;

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;
type RawUsage = { prompt_tokens?: number; completion_tokens?: number; cost?: number };

/** In US dollars: the most a request is expected to cost, from the model's prices and its size. */
export function estimateCost(model: Model | undefined, size: number, maxTokens: number | undefined): number {
  const answer = Math.min(maxTokens ?? ASSUMED_ANSWER_TOKENS, model?.contextLength ?? Number.POSITIVE_INFINITY);
  return costOf(model, Math.ceil(size / CHARS_PER_TOKEN), answer);
}

/** What a request that ended without a usage report probably cost: its prompt and the pieces that came. */
function spentWithoutUsage(model: Model | undefined, size: number, pieces: number): number {
  return costOf(model, Math.ceil(size / CHARS_PER_TOKEN), pieces);
}

const encoder = new TextEncoder();
const event = (data: unknown) => encoder.encode(`data: ${JSON.stringify(data)}\n\n`);

/**
 * The OpenAI-compatible API's work: which models a person may list and use, and chat completions
 * sent upstream on the team's key under the person's allow-list and spending limits, each paid
 * request reserved before it goes and settled with the usage the upstream reports (or, when it
 * reports none, what the request probably cost). Nothing is stored as a chat.
 */
export function createApiService(deps: {
  database: Database;
  upstream: Upstream;
  models: () => Promise<Model[]>;
  log: Logger;
}) {
  const { db } = deps.database;
  const { log } = deps;

  const settleQuietly = (usageId: string, used: Parameters<typeof settle>[2]) =>
    settle(db, usageId, used).catch((err) => log.warn("could not settle an API request's usage", { error: err }));

  return {
    /** The models this person may use, in OpenAI's list shape. */
    async models(caller: Caller) {
      const [allowed, models] = await Promise.all([allowedModels(db, caller.userId), deps.models()]);
      return {
        object: "list",
        data: models
          .filter((m) => allowed(m.id))
          .map((m) => ({
            id: m.id,
            object: "model",
            created: 0,
            owned_by: m.id.split("/")[0] ?? "openrouter",
            name: m.name,
            context_length: m.contextLength,
          })),
      };
    },

    /** One chat completion, streamed or not, as the upstream answers it. */
    async complete(caller: Caller, req: ApiRequest, clientGone: AbortSignal): Promise<Response> {
      const allowed = await allowedModels(db, caller.userId);
      if (!allowed(req.model)) {
        return apiError(
          403,
          `You may not use the model “${req.model}” here: ask the admin to allow it.`,
          "permission_error",
          {
            code: "model_not_allowed",
            param: "model",
          },
        );
      }
      const model = (await deps.models()).find((m) => m.id === req.model);
      let usageId: string;
      try {
        usageId = await reserve(db, {
          userId: caller.userId,
          kind: "api",
          model: req.model,
          estimate: estimateCost(model, req.size, req.maxTokens),
          apiKeyId: caller.keyId,
        });
      } catch (err) {
        if (!(err instanceof SpendingRefused)) throw err;
        return apiError(402, err.message, "insufficient_quota", { code: "spending_limit" });
      }

      const stop = new AbortController();
      const signal = AbortSignal.any([clientGone, stop.signal]);
      let response: Response;
      try {
        response = await deps.upstream.passThrough(req.upstreamBody, signal);
      } catch (err) {
        // Refused before it started: nothing was spent.
        await settleQuietly(usageId, { cost: 0 });
        const failed = upstreamFailure(err);
        const headers: Record<string, string> = failed.retryAfter ? { "retry-after": failed.retryAfter } : {};
        return Response.json({ error: failed.error }, { status: failed.status, headers });
      }

      if (!req.stream) {
        try {
          const body = (await response.json()) as { usage?: RawUsage };
          await settleQuietly(usageId, usedOf(body.usage, model) ?? { cost: spentWithoutUsage(model, req.size, 0) });
          return Response.json(body, { status: response.status });
        } catch (err) {
          await settleQuietly(usageId, { cost: spentWithoutUsage(model, req.size, 0) });
          const failed = upstreamFailure(err);
          return Response.json({ error: failed.error }, { status: failed.status });
        }
      }

      let usage: RawUsage | undefined;
      let pieces = 0;
      const chunks = completionChunks(response);
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (bytes: Uint8Array) => {
            if (!signal.aborted) controller.enqueue(bytes);
          };
          let finished = false;
          try {
            for await (const chunk of chunks) {
              if (chunk.choices?.[0]?.delta) pieces++;
              if (chunk.choices?.[0]?.finish_reason) finished = true;
              const shown = passOn(chunk, req.clientWantsUsage);
              if (chunk.usage) usage = chunk.usage as RawUsage;
              if (shown) send(event(shown));
            }
            // The connection ended without the answer's end: it dropped.
            if (!finished) throw new Error("dropped");
            send(encoder.encode("data: [DONE]\n\n"));
          } catch (err) {
            // The upstream died mid-answer: the client's SDK raises this event as an error.
            if (!signal.aborted) send(event({ error: midStream(err) }));
          } finally {
            await settleQuietly(usageId, usedOf(usage, model) ?? { cost: spentWithoutUsage(model, req.size, pieces) });
            try {
              controller.close();
            } catch {
              // Already closed by the client going away.
            }
          }
        },
        cancel() {
          stop.abort();
        },
      });
      return new Response(stream, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-store",
          // Proxies such as nginx otherwise hold the stream back until it ends.
          "x-accel-buffering": "no",
        },
      });
    },
  };
}

/** The chunk as the client gets it: without the usage it did not ask for (which Parley asks for to settle). */
function passOn(chunk: Chunk, clientWantsUsage: boolean): Chunk | undefined {
  if (!chunk.usage || clientWantsUsage) return chunk;
  if (!chunk.choices?.length) return undefined;
  const { usage: _, ...rest } = chunk;
  return rest as Chunk;
}

/** The usage the upstream reported; its cost from the model's prices when it gave the tokens alone. */
function usedOf(usage: RawUsage | undefined, model: Model | undefined) {
  if (!usage) return undefined;
  const promptTokens = usage.prompt_tokens ?? null;
  const completionTokens = usage.completion_tokens ?? null;
  const priced =
    ((model?.promptPrice ?? 0) * (promptTokens ?? 0) + (model?.completionPrice ?? 0) * (completionTokens ?? 0)) /
    1_000_000;
  return { promptTokens, completionTokens, cost: typeof usage.cost === "number" ? usage.cost : priced };
}

function midStream(err: unknown): ApiErrorBody {
  return upstreamFailure(err).error;
}

export type ApiService = ReturnType<typeof createApiService>;
