import { APIConnectionError, APIError } from "openai";
import { UpstreamError, upstreamReason } from "../llm/upstream-errors.ts";

/*
 * Errors as OpenAI's API sends them, `{"error": {"message", "type", "param", "code"}}`, so that
 * every OpenAI client (the `openai` SDK raises them as APIError with the message) shows the
 * sentence to whoever reads its output.
 */

export type ApiErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "insufficient_quota"
  | "rate_limit_error"
  | "upstream_error"
  | "server_error";

/** What an error says: the sentence, its kind, and OpenAI's machine-readable code where one fits. */
export type ApiErrorBody = { message: string; type: ApiErrorType; param: string | null; code: string | null };

export function apiError(
  status: number,
  message: string,
  type: ApiErrorType,
  opts: { code?: string; param?: string; headers?: Record<string, string> } = {},
): Response {
  const error: ApiErrorBody = { message, type, param: opts.param ?? null, code: opts.code ?? null };
  return Response.json({ error }, { status, headers: { "cache-control": "no-store", ...opts.headers } });
}

/** A refusal of the request body (400). */
export const invalid = (message: string, param?: string) => apiError(400, message, "invalid_request_error", { param });

export const NO_TEAM_KEY =
  "This Parley has no OpenRouter key (OPENROUTER_API_KEY is not set), so it cannot answer: tell its admin.";

/**
 * What the upstream's failure becomes for the client: its status and message as it gave them,
 * except a refused OpenRouter key, which is the admin's to fix, not the client's (a 401 would
 * tell the client its own Parley key is wrong).
 */
export function upstreamFailure(err: unknown): { status: number; error: ApiErrorBody; retryAfter?: string } {
  const body = (type: ApiErrorType, message: string, code: string | null = null): ApiErrorBody => ({
    message,
    type,
    param: null,
    code,
  });
  if (err instanceof UpstreamError && err.kind === "no_key") {
    return { status: 503, error: body("server_error", NO_TEAM_KEY, "no_upstream_key") };
  }
  if (err instanceof APIError && !(err instanceof APIConnectionError) && err.status !== undefined) {
    const reason = upstreamReason(err);
    if (err.status === 401 || err.status === 403) {
      const message =
        err.status === 401
          ? "OpenRouter refused this Parley's key (OPENROUTER_API_KEY): tell its admin."
          : `OpenRouter refused the request: ${reason}`;
      return { status: err.status === 401 ? 502 : 403, error: body("upstream_error", message, "upstream_refused") };
    }
    const retryAfter = err.headers?.get("retry-after") ?? undefined;
    const type: ApiErrorType =
      err.status === 429 ? "rate_limit_error" : err.status < 500 ? "invalid_request_error" : "upstream_error";
    return {
      status: err.status,
      error: body(type, `The model's provider answered ${err.status}: ${reason}`, "upstream_error"),
      retryAfter,
    };
  }
  if (err instanceof APIError && !(err instanceof APIConnectionError)) {
    return {
      status: 502,
      error: body("upstream_error", `The model failed mid-answer: ${upstreamReason(err)}`, "upstream_error"),
    };
  }
  return {
    status: 502,
    error: body(
      "upstream_error",
      "The model could not be reached, or its connection dropped: try again.",
      "upstream_unreachable",
    ),
  };
}
