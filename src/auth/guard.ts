import { Elysia } from "elysia";
import { sessionToken } from "./cookie.ts";
import type { AuthService, SignedIn } from "./service.ts";

/**
 * Who is asking: the signed-in person, or nobody. Routes registered after `.use(signedIn(...))`
 * see `me`; `requireSignIn` turns nobody away before any handler runs. Both are unnamed on
 * purpose: Elysia applies a named plugin once, to the first feature that uses it.
 */
export function signedIn(auth: AuthService) {
  return new Elysia().resolve({ as: "scoped" }, whoIsAsking(auth));
}

const whoIsAsking =
  (auth: AuthService) =>
  async ({ request }: { request: Request }) => ({
    me: (await auth.authenticate(sessionToken(request))) as SignedIn | undefined,
  });

/**
 * Everything behind this needs a session. Pages send nobody to the sign-in page; htmx requests
 * get HX-Redirect (htmx would otherwise swap the sign-in page into a fragment); the rest get 401.
 */
export function requireSignIn(auth: AuthService) {
  // The resolve is repeated here rather than `.use(signedIn)`: a scoped hook reaches only the
  // plugin's direct parent, so nested it would not reach the routes.
  return new Elysia()
    .resolve({ as: "scoped" }, whoIsAsking(auth))
    .onBeforeHandle({ as: "scoped" }, ({ me, request, set, status }) => {
      if (me) return;
      if (request.headers.get("hx-request")) {
        // Back to the page the fragment was for, not to the fragment.
        set.headers["hx-redirect"] = signInThenTo(request.headers.get("hx-current-url") ?? "/", request.url);
        return status(401, "Sign in first.");
      }
      if (request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        set.headers.location = signInThenTo(request.url, request.url);
        return status(303, "Sign in first.");
      }
      return status(401, "Sign in first.");
    });
}

/**
 * Where a sign-in goes on to: a path of this site only (`next` from a link or a form could name
 * another site, a scheme-relative `//host` or a `/\host` that browsers read as one). Anything
 * else is the chats.
 */
export function nextPath(raw: unknown): string {
  if (typeof raw !== "string" || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  try {
    const base = "http://parley.invalid";
    const url = new URL(raw, base);
    return url.origin === base ? `${url.pathname}${url.search}${url.hash}` : "/";
  } catch {
    return "/";
  }
}

/** The sign-in page, with the page asked for (if it is this site's and not the chats) to return to. */
function signInThenTo(wanted: string, self: string): string {
  let path = "/";
  try {
    const url = new URL(wanted, self);
    if (url.origin === new URL(self).origin) path = nextPath(`${url.pathname}${url.search}`);
  } catch {}
  return path === "/" ? "/signin" : `/signin?next=${encodeURIComponent(path)}`;
}
