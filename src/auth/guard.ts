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
        set.headers["hx-redirect"] = "/signin";
        return status(401, "Sign in first.");
      }
      if (request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
        set.headers.location = "/signin";
        return status(303, "Sign in first.");
      }
      return status(401, "Sign in first.");
    });
}
