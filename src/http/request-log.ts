import { Elysia } from "elysia";
import type { Logger } from "../log.ts";

const started = new WeakMap<Request, number>();

/**
 * One log line per request: method, path, status, duration. Logged before the response leaves
 * (after the handler, or by the error handler): Elysia's after-response hook runs on a later
 * tick and was seen to lose lines at shutdown.
 */
export function logRequest(log: Logger, request: Request, status: number) {
  const start = started.get(request);
  const path = new URL(request.url).pathname;
  const fields = {
    method: request.method,
    path,
    status,
    ms: start === undefined ? undefined : Math.round((performance.now() - start) * 10) / 10,
  };
  // Health probes arrive every few seconds; they would drown everything else at info.
  if (path === "/healthz" || path === "/readyz") log.debug("request", fields);
  else log.info("request", fields);
}

export function requestLog(log: Logger) {
  return new Elysia({ name: "request-log" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterHandle({ as: "global" }, ({ request, set, responseValue }) => {
      logRequest(log, request, statusOf(responseValue, set.status));
    });
}

function statusOf(value: unknown, fallback: unknown): number {
  if (value instanceof Response) return value.status;
  const code = (value as { code?: unknown } | null)?.code;
  if (typeof code === "number") return code; // Elysia's status(...) helper
  return typeof fallback === "number" ? fallback : 200;
}
