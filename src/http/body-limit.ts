import { Elysia } from "elysia";
import { apiError } from "../api/errors.ts";

/**
 * Request bodies are bounded by their declared length, before anything reads them: at most
 * `limit` bytes (413), except on the routes named in `ownLimit` ("POST /path", where a segment
 * `:name` stands for any one segment, as in the route table), which take larger
 * bodies and check them themselves, so that a refusal can be a page with a sentence. Bun's
 * `maxRequestBodySize` is one number for the whole server, so it is set high, as a backstop, and
 * this is what holds every other route to `limit`. A body sent without a length (chunked) cannot
 * be bounded before it is read, so it is refused (411); browsers always send the length.
 */
export function bodyLimit(limit: number, ownLimit: string[]) {
  const own = ownLimit.map(
    (route) => new RegExp(`^${route.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z]+/g, "[^/]+")}$`),
  );
  return new Elysia({ name: "body-limit" }).onRequest(({ request, set }) => {
    if (request.method === "GET" || request.method === "HEAD") return;
    const length = request.headers.get("content-length");
    if (length === null) {
      if (!request.headers.has("transfer-encoding")) return;
      const sentence = "A request body needs a Content-Length.";
      if (new URL(request.url).pathname.startsWith("/v1/")) return apiError(411, sentence, "invalid_request_error");
      set.status = 411;
      return sentence;
    }
    if (Number(length) <= limit) return;
    const route = `${request.method} ${new URL(request.url).pathname}`;
    if (own.some((r) => r.test(route))) return;
    set.status = 413;
    return "The request is too large.";
  });
}
