import { Elysia } from "elysia";

/** Below this, gzip's header and the CPU are not worth it (most htmx fragments). */
const MIN_BYTES = 1024;

/**
 * Large HTML that views return goes out gzip'd to browsers that take it: pages are mostly
 * repeated markup (a chat page of 50 messages: 94 KB as HTML, about a tenth of that gzip'd).
 * An afterHandle hook, so it sees the HTML string before the html plugin wraps it, and never
 * runs on Elysia's error path (a mapResponse hook there left error pages empty). Responses a
 * route builds itself, pages with another status among them, pass untouched.
 */
export function compressHtml() {
  return new Elysia({ name: "compress-html" }).onAfterHandle({ as: "global" }, ({ responseValue, request, set }) => {
    // Only plain successes: a 422 form or a 404 page keeps its status by being left as it is.
    if (typeof responseValue !== "string" || (set.status !== undefined && set.status !== 200)) return;
    const text = responseValue.trim();
    if (!text.startsWith("<") || !text.endsWith(">")) return;
    set.headers.vary = "accept-encoding";
    if (responseValue.length < MIN_BYTES || !/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) return;
    set.headers["content-encoding"] = "gzip";
    return new Response(Bun.gzipSync(responseValue), { headers: { "content-type": "text/html; charset=utf-8" } });
  });
}
