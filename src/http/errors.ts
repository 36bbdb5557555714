import { Elysia } from "elysia";
import { isUnavailable } from "../db/errors.ts";
import { DATABASE_UNAVAILABLE } from "../db/health.ts";
import { type Logger, stackFrames } from "../log.ts";
import type { RecordRequest } from "./request-log.ts";

/**
 * Turns every failure into a short answer a person can act on. Stack traces go to the log,
 * never to the client.
 */
export function errorHandler(log: Logger, record: RecordRequest) {
  return new Elysia({ name: "errors" }).onError({ as: "global" }, ({ code, error, request, set, route }) => {
    const wantsJson = !(request.headers.get("accept") ?? "").includes("text/html");
    const answer = (status: number, message: string) => {
      set.status = status;
      record(request, status, code === "NOT_FOUND" ? undefined : route);
      if (wantsJson) return Response.json({ error: message }, { status });
      set.headers["content-type"] = "text/html; charset=utf-8";
      return errorPage(status, message);
    };
    switch (code) {
      case "NOT_FOUND":
        return answer(404, "There is nothing at this address.");
      case "PARSE":
        return answer(400, "The request body could not be read.");
      case "VALIDATION":
        return answer(400, "The request is not valid.");
      case "INVALID_COOKIE_SIGNATURE":
        return answer(400, "A cookie was tampered with.");
      default: {
        if (isUnavailable(error)) {
          // Not a bug: the database is away or full. The health probe notices it coming back.
          log.warn("request failed: the database is unavailable", {
            method: request.method,
            path: new URL(request.url).pathname,
            error,
          });
          set.headers["retry-after"] = "5";
          return answer(503, DATABASE_UNAVAILABLE);
        }
        log.error("unhandled error", {
          method: request.method,
          path: new URL(request.url).pathname,
          error,
          stack: stackFrames(error),
        });
        return answer(500, "Something went wrong on our side; it has been logged.");
      }
    }
  });
}

/** A bare page for an error: the status and one sentence. */
export function errorPage(status: number, message: string): string {
  // No user input reaches this page: status and message are ours.
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${status} · Parley</title></head><body><h1>${status}</h1><p>${message}</p><p><a href="/">Back to Parley</a></p></body></html>`;
}
