import { Elysia } from "elysia";
import type { Logger } from "../log.ts";

const started = new WeakMap<Request, number>();

/** One log line per request: method, path, status, duration. */
export function requestLog(log: Logger) {
  return new Elysia({ name: "request-log" })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, set, path }) => {
      const start = started.get(request);
      const status = typeof set.status === "number" ? set.status : 200;
      const fields = {
        method: request.method,
        path,
        status,
        ms: start === undefined ? undefined : Math.round((performance.now() - start) * 10) / 10,
      };
      // Health probes arrive every few seconds; they would drown everything else at info.
      if (path === "/healthz" || path === "/readyz") log.debug("request", fields);
      else log.info("request", fields);
    });
}
