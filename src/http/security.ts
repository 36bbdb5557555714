import { Elysia } from "elysia";
import { sameOrigin } from "./origin.ts";

// Scripts and styles come only from our own hashed files: no inline script, no eval, so a
// model's output that slipped past escaping still could not run.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join("; ");

/** Security headers on every response. */
export function securityHeaders() {
  return new Elysia({ name: "security-headers" }).onRequest(({ set }) => {
    set.headers["content-security-policy"] = CSP;
    set.headers["x-content-type-options"] = "nosniff";
    set.headers["referrer-policy"] = "same-origin";
    set.headers["x-frame-options"] = "DENY";
    set.headers["cross-origin-opener-policy"] = "same-origin";
  });
}

/** State-changing requests are accepted only from this site's own pages. */
export function sameOriginWrites(publicUrl: string) {
  return new Elysia({ name: "same-origin-writes" }).onBeforeHandle({ as: "global" }, ({ request, status }) => {
    if (["GET", "HEAD", "OPTIONS"].includes(request.method)) return;
    if (!sameOrigin(request, publicUrl)) return status(403, "Cross-origin request refused.");
  });
}
