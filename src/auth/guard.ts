import { Elysia } from "elysia";
import type { AssetUrls } from "../http/assets.ts";
import { errorPage } from "../http/errors.ts";
import { pageWithStatus } from "../http/page.ts";
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

/** Everything behind this needs a session (see notSignedIn for what comes without one). */
export function requireSignIn(auth: AuthService) {
  // The resolve is repeated here rather than `.use(signedIn)`: a scoped hook reaches only the
  // plugin's direct parent, so nested it would not reach the routes.
  return new Elysia()
    .resolve({ as: "scoped" }, whoIsAsking(auth))
    .onBeforeHandle({ as: "scoped" }, (ctx) => (ctx.me ? undefined : notSignedIn(ctx)));
}

/**
 * What a request without a session gets. Pages send nobody to the sign-in page; htmx requests
 * get HX-Redirect (htmx would otherwise swap the sign-in page into a fragment); the rest get 401.
 */
function notSignedIn({ request }: { request: Request }): Response {
  const refuse = (status: number, headers: Record<string, string> = {}) =>
    new Response("Sign in first.", { status, headers });
  if (request.headers.get("hx-request")) {
    // Back to the page the fragment was for, not to the fragment.
    return refuse(401, { "hx-redirect": signInThenTo(request.headers.get("hx-current-url") ?? "/", request.url) });
  }
  if (request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return refuse(303, { location: signInThenTo(request.url, request.url) });
  }
  return refuse(401);
}

export const ONLY_ADMIN = "Only an admin can do that: this page is for whoever looks after this Parley.";

/**
 * requireSignIn, and an admin: anyone else who followed a link gets a page with a way back (403),
 * a script the sentence.
 */
export function requireAdmin(auth: AuthService, assets: AssetUrls) {
  // Not `.use(requireSignIn)`: a scoped hook reaches only its direct parent (see requireSignIn).
  return new Elysia().resolve({ as: "scoped" }, whoIsAsking(auth)).onBeforeHandle({ as: "scoped" }, async (ctx) => {
    const { me, request, status } = ctx;
    if (!me) return notSignedIn(ctx);
    if (me.user.isAdmin) return;
    if (!(request.headers.get("accept") ?? "").includes("text/html")) return status(403, ONLY_ADMIN);
    return pageWithStatus(403, await errorPage(403, ONLY_ADMIN, assets));
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
