import { APIConnectionError, APIError, APIUserAbortError } from "openai";

/**
 * What can go wrong upstream, in sentences for the person reading the chat, and when a failure
 * is worth trying again (src/llm/openrouter.ts asks; the /v1 relay reports the same errors).
 */

/** A failure told to the person; `kind` (an HTTP status, or network, stall, midstream, dropped, no_key) is for metrics. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    readonly kind = "other",
  ) {
    super(message);
  }
}

const RETRYABLE = new Set([408, 429, 502, 503]);
const MAX_RETRY_WAIT_MS = 30_000;

/**
 * How long to wait before trying again, or undefined when the failure is final. Retry-After
 * (seconds or a date) wins; otherwise exponential backoff with full jitter.
 */
export function retryDelay(err: unknown, attempt: number, maxRetries: number, baseMs: number): number | undefined {
  if (attempt > maxRetries) return undefined;
  const retryable = err instanceof APIConnectionError || (err instanceof APIError && RETRYABLE.has(err.status ?? 0));
  if (!retryable) return undefined;
  const header = err instanceof APIError ? err.headers?.get("retry-after") : null;
  if (header) {
    const seconds = Number(header);
    const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now();
    if (Number.isFinite(ms)) return Math.min(Math.max(ms, 0), MAX_RETRY_WAIT_MS);
  }
  return Math.round(Math.random() * Math.min(baseMs * 2 ** (attempt - 1), MAX_RETRY_WAIT_MS));
}

export function retryReason(err: unknown): string {
  if (err instanceof APIError && err.status === 429) return "The model is rate-limited";
  if (err instanceof APIError && err.status === 408) return "The model took too long";
  if (err instanceof APIError && err.status) return "The model's provider is unavailable";
  return "The model could not be reached";
}

/** One plain sentence per kind of failure before the answer starts; the upstream's reason where it gives one. */
export function toUpstreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIUserAbortError) return new UpstreamError("The request was stopped.", "aborted");
  if (err instanceof APIError) {
    const reason = upstreamReason(err);
    const kind = err.status === undefined ? "network" : String(err.status);
    switch (err.status) {
      case 400:
        return new UpstreamError(`The model refused the request: ${reason}`, kind);
      case 401:
        return new UpstreamError("The API key was rejected: check OPENROUTER_API_KEY.", kind);
      case 402:
        return new UpstreamError("The OpenRouter account is out of credits: add credits, then Retry.", kind);
      case 403:
        return new UpstreamError(`The request was blocked by moderation: ${reason}`, kind);
      case 404:
        return new UpstreamError(`The model was not found: ${reason}`, kind);
      case 408:
      case 504:
        return new UpstreamError("The model took too long to answer; retry in a moment.", kind);
      case 429:
        return new UpstreamError("The model is rate-limited right now; retry in a moment.", kind);
      case 502:
      case 503:
        return new UpstreamError("The model's provider is unavailable right now; retry in a moment.", kind);
      default:
        if (err.status === undefined) return new UpstreamError(`The model could not be reached: ${reason}`, kind);
        return new UpstreamError(`The model failed (${err.status}): ${reason}`, kind);
    }
  }
  return new UpstreamError(`The model could not be reached: ${(err as Error)?.message ?? String(err)}`, "network");
}

/** After HTTP 200, an error object in the stream or a broken connection. */
export function midStreamError(err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  if (err instanceof APIError)
    return new UpstreamError(`The model's provider failed mid-answer: ${upstreamReason(err)}`, "midstream");
  return new UpstreamError("The connection to the model dropped mid-answer.", "dropped");
}

/** The upstream's message, with OpenRouter's moderation reasons when it gives them. */
export function upstreamReason(err: APIError): string {
  const body = err.error as { message?: string; metadata?: { reasons?: unknown } } | undefined;
  const reasons = Array.isArray(body?.metadata?.reasons) ? ` (${body.metadata.reasons.map(String).join(", ")})` : "";
  return `${body?.message ?? err.message ?? "no reason given"}${reasons}`.slice(0, 500);
}
