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

/**
 * Security headers on every response. `https` (PUBLIC_URL is https) adds HSTS: browsers then
 * refuse plain http to this host for a year, so nobody on the path can strip TLS from a later visit.
 * Not includeSubDomains: other sites under the same domain may not be on https.
 */
export function securityHeaders(https: boolean) {
  return new Elysia({ name: "security-headers" }).onRequest(({ set }) => {
    set.headers["content-security-policy"] = CSP;
    set.headers["x-content-type-options"] = "nosniff";
    set.headers["referrer-policy"] = "same-origin";
    set.headers["x-frame-options"] = "DENY";
    set.headers["cross-origin-opener-policy"] = "same-origin";
    if (https) set.headers["strict-transport-security"] = "max-age=31536000";
    // Pages, fragments, exports and errors hold someone's chats and name: no browser or proxy
    // cache keeps them (a shared computer's back button, a proxy serving them to another).
    // Responses that may be cached say so themselves and win: the hashed assets for a year.
    set.headers["cache-control"] = "no-store";
  });
}

/**
 * State-changing requests are accepted only from this site's own pages. Except under the
 * `bearerOnly` path prefixes (the OpenAI-compatible API, /v1/): routes there read no cookie and
 * accept only an `Authorization: Bearer` key, which a page elsewhere cannot make a browser send
 * for someone, so there is no forged request to refuse; editors and scripts send no Origin at all.
 */
export function sameOriginWrites(publicUrl: string, bearerOnly: string[] = []) {
  return new Elysia({ name: "same-origin-writes" }).onBeforeHandle({ as: "global" }, ({ request, status }) => {
    if (["GET", "HEAD", "OPTIONS"].includes(request.method)) return;
    if (bearerOnly.length && bearerOnly.some((prefix) => new URL(request.url).pathname.startsWith(prefix))) return;
    if (!sameOrigin(request, publicUrl)) return status(403, "Cross-origin request refused.");
  });
}
