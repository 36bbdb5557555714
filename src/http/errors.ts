import { Elysia } from "elysia";
import { ErrorPage } from "../../views/pages/error.tsx";
import { isUnavailable } from "../db/errors.ts";
import { DATABASE_UNAVAILABLE } from "../db/health.ts";
import { type Logger, stackFrames } from "../log.ts";
import type { AssetUrls } from "./assets.ts";
import type { RecordRequest } from "./request-log.ts";

/**
 * Turns every failure into a short answer a person can act on. Stack traces go to the log,
 * never to the client.
 */
export function errorHandler(log: Logger, record: RecordRequest, assets: AssetUrls) {
  return new Elysia({ name: "errors" }).onError({ as: "global" }, ({ code, error, request, set, route }) => {
    const wantsJson = !(request.headers.get("accept") ?? "").includes("text/html");
    const answer = (status: number, message: string) => {
      set.status = status;
      record(request, status, code === "NOT_FOUND" ? undefined : route);
      if (wantsJson) return Response.json({ error: message }, { status });
      set.headers["content-type"] = "text/html; charset=utf-8";
      return errorPage(status, message, assets);
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

/** A page for an error: the status, one sentence, and a way back to the chats (unstyled without `assets`). */
export async function errorPage(status: number, message: string, assets?: AssetUrls): Promise<string> {
  return await ErrorPage({ status, message, assets });
}
