import { Elysia } from "elysia";
import { clientAddress, isHttps, sessionCookie } from "../auth/cookie.ts";
import { AuthError } from "../auth/errors.ts";
import { nextPath, requireSignIn, signedIn } from "../auth/guard.ts";
import type { authPages } from "../auth/routes.ts";
import type { AuthService } from "../auth/service.ts";
import type { Config } from "../config.ts";
import { pageWithStatus } from "../http/page.ts";
import { type Flow, SsoError } from "./client.ts";
import { LinkRefused, type SsoService } from "./service.ts";
import { failureSentence, STALE } from "./words.ts";

/**
 * The browser's trip to the provider and back. What it must bring back (state, nonce, PKCE
 * verifier) rides in a short-lived cookie of its own, so any instance can finish the trip.
 * SameSite=Lax: the provider's redirect back is a top-level GET, which Lax cookies go with.
 */
const FLOW_COOKIE = "parley_sso";
const FLOW_PATH = "/auth/oidc";
const FLOW_SECONDS = 10 * 60;

const flowCookie = (flow: Flow | undefined, secure: boolean) =>
  `${FLOW_COOKIE}=${flow ? Buffer.from(JSON.stringify(flow)).toString("base64url") : ""}; Path=${FLOW_PATH}; Max-Age=${flow ? FLOW_SECONDS : 0}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;

function flowOf(request: Request): Flow | undefined {
  const raw = request.headers
    .get("cookie")
    ?.split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith(`${FLOW_COOKIE}=`))
    ?.slice(FLOW_COOKIE.length + 1);
  if (!raw) return undefined;
  try {
    const flow = JSON.parse(Buffer.from(raw, "base64url").toString()) as Flow;
    const strings = [flow.state, flow.nonce, flow.verifier, flow.next].every((v) => typeof v === "string");
    return strings && typeof flow.link === "boolean" ? flow : undefined;
  } catch {
    return undefined;
  }
}

/** The browser says the link was followed from one of this site's pages (Sec-Fetch-Site, else Referer). */
function followedFromHere(request: Request, origin: string): boolean {
  const site = request.headers.get("sec-fetch-site");
  if (site) return site === "same-origin";
  const referer = request.headers.get("referer");
  try {
    return !!referer && new URL(referer).origin === origin;
  } catch {
    return false;
  }
}

const STATUS = {
  unreachable: 502,
  setup: 502,
  secret: 502,
  refused: 403,
  provider: 403,
  state: 400,
  code: 400,
  audience: 502,
  expired: 400,
  keys: 502,
  token: 502,
} as const;

/** /auth/oidc/*: start, callback, sign-out; /account/sso/*: link and unlink. Only when OIDC_ISSUER is set. */
export function ssoRoutes(sso: SsoService, auth: AuthService, config: Config, authPage: ReturnType<typeof authPages>) {
  /** Where the provider sends the browser back: PUBLIC_URL's, else the address this request came to. */
  const base = (request: Request) => config.publicUrl ?? new URL(request.url).origin;
  const callbackUrl = (request: Request) => `${base(request)}${FLOW_PATH}/callback`;

  /** Off to the provider; if it cannot be reached, the page the person was on says so. */
  async function leave(request: Request, next: string, link: boolean) {
    const { url, flow } = await sso.begin(callbackUrl(request), next, link);
    return new Response(null, {
      status: 303,
      headers: {
        location: url.href,
        "set-cookie": flowCookie(flow, isHttps(request, config)),
        "cache-control": "no-store",
      },
    });
  }

  const refusedPage = async (err: unknown, next: string) => {
    if (err instanceof SsoError) {
      return pageWithStatus(
        STATUS[err.reason],
        await authPage("signin", { error: failureSentence(err.reason, sso.label, err.detail), next }),
      );
    }
    if (err instanceof AuthError)
      return pageWithStatus(err.status, await authPage("signin", { error: err.message, next }));
    throw err;
  };

  return new Elysia({ name: "sso-routes" })
    .use(signedIn(auth))
    .get(`${FLOW_PATH}/start`, async ({ request, query }) => {
      const next = nextPath(query.next);
      try {
        return await leave(request, next, false);
      } catch (err) {
        return refusedPage(err, next);
      }
    })
    .get(`${FLOW_PATH}/callback`, async ({ request, server, me }) => {
      const secure = isHttps(request, config);
      const flow = flowOf(request);
      // Used once: whatever happens next, the browser no longer holds this trip.
      const cleared = flowCookie(undefined, secure);
      const linking = flow?.link === true;
      const back = (location: string, cookies: string[] = []) =>
        new Response(null, {
          status: 303,
          headers: [
            ["location", location],
            ["cache-control", "no-store"],
            ["set-cookie", cleared],
            ...cookies.map((c) => ["set-cookie", c] as [string, string]),
          ],
        });
      if (!flow) {
        const page = await authPage("signin", { error: STALE });
        const res = pageWithStatus(400, page);
        res.headers.append("set-cookie", cleared);
        return res;
      }
      try {
        const result = await sso.finish({
          callback: new URL(request.url),
          flow,
          redirectUri: callbackUrl(request),
          me,
          address: clientAddress(request, server, config),
          userAgent: request.headers.get("user-agent"),
        });
        if (result.linked) return back("/account?done=sso-linked");
        // The cookie came from the browser: its `next` is held to this site's paths again.
        return back(nextPath(flow.next), sessionCookie(result.token, config, secure));
      } catch (err) {
        if (linking && (err instanceof SsoError || err instanceof LinkRefused)) {
          return back(`/account?sso=${err instanceof SsoError ? err.reason : err.code}`);
        }
        const res = await refusedPage(err, flow.next);
        res.headers.append("set-cookie", cleared);
        return res;
      }
    })
    .get(`${FLOW_PATH}/signout`, async ({ request, redirect }) => {
      const returnTo = `${base(request)}/signin?done=signed-out`;
      try {
        const url = await sso.signOutUrl(returnTo);
        return redirect(url?.href ?? "/signin?done=signed-out", 303);
      } catch (err) {
        return refusedPage(err, "/");
      }
    })
    .use(
      new Elysia()
        .use(requireSignIn(auth))
        // A GET, as a link (see views/pages/auth.tsx), so only a link followed from this site's
        // own page starts it: another site must not send a signed-in person off to link whatever
        // account their browser holds at the provider.
        .get("/account/sso/link", async ({ request, redirect, status }) => {
          if (!followedFromHere(request, base(request)))
            return status(403, "Link your account from your account page.");
          try {
            return await leave(request, "/account", true);
          } catch (err) {
            if (err instanceof SsoError) return redirect(`/account?sso=${err.reason}`, 303);
            throw err;
          }
        })
        .post("/account/sso/unlink", async ({ me, request, server, redirect }) => {
          try {
            await sso.unlink(me!, clientAddress(request, server, config));
          } catch (err) {
            if (err instanceof LinkRefused) return redirect(`/account?sso=${err.code}`, 303);
            throw err;
          }
          return redirect("/account?done=sso-unlinked", 303);
        }),
    );
}
