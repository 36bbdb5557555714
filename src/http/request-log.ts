import { Elysia } from "elysia";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics/metrics.ts";

const started = new WeakMap<Request, number>();

/** Logs and counts one finished request; `route` is the matched pattern (`/chats/:id`), never the raw path. */
export type RecordRequest = (request: Request, status: number, route: string | undefined) => void;

/**
 * One log line per request (method, path, status, duration) and one observation in the
 * request-duration histogram, labelled by route pattern so ids do not explode its series.
 * Recorded before the response leaves (after the handler, or by the error handler): Elysia's
 * after-response hook runs on a later tick and was seen to lose lines at shutdown.
 */
export function requestRecorder(log: Logger, metrics?: Metrics): RecordRequest {
  return (request, status, route) => {
    const start = started.get(request);
    const seconds = start === undefined ? undefined : (performance.now() - start) / 1000;
    // A shared chat's link is its own permission: the log keeps no working one.
    const path = new URL(request.url).pathname.replace(/^\/s\/[^/]+/, "/s/…");
    const fields = {
      method: request.method,
      path,
      status,
      ms: seconds === undefined ? undefined : Math.round(seconds * 10_000) / 10,
    };
    // Health probes arrive every few seconds; they would drown everything else at info.
    if (path === "/healthz" || path === "/readyz") log.debug("request", fields);
    else log.info("request", fields);
    if (metrics && seconds !== undefined) {
      metrics.httpDuration.observe({ method: request.method, route: route ?? "unmatched", status }, seconds);
    }
  };
}

export function requestLog(record: RecordRequest) {
  return new Elysia({ name: "request-log" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterHandle({ as: "global" }, ({ request, set, responseValue, route }) => {
      record(request, statusOf(responseValue, set.status), route);
    });
}

function statusOf(value: unknown, fallback: unknown): number {
  if (value instanceof Response) return value.status;
  const code = (value as { code?: unknown } | null)?.code;
  if (typeof code === "number") return code; // Elysia's status(...) helper
  return typeof fallback === "number" ? fallback : 200;
}
