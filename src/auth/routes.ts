import { Elysia } from "elysia";
import { AccountPage } from "../../views/pages/account.tsx";
import { AdminPage, type AdminPageProps } from "../../views/pages/admin.tsx";
import { type AuthMode, AuthPage, type AuthPageProps } from "../../views/pages/auth.tsx";
import type { Config } from "../config.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { errorPage } from "../http/errors.ts";
import { pageWithStatus } from "../http/page.ts";
import type { SsoService } from "../sso/service.ts";
import { ssoRefusal } from "../sso/words.ts";
import type { LimitsService } from "../teams/limits-service.ts";
import { LimitError } from "../teams/limits-words.ts";
import { clearedCookie, clientAddress, isHttps, sessionCookie } from "./cookie.ts";
import { AuthError } from "./errors.ts";
import { nextPath, requireSignIn, signedIn } from "./guard.ts";
import type { AuthService, SignedIn } from "./service.ts";

type Form = Record<string, unknown>;
const form = (body: unknown): Form => (body && typeof body === "object" ? (body as Form) : {});

// Confirmations after a redirect are named by code, never carried as text in the URL.
const DONE = {
  password: "Your password is changed; your other devices are signed out.",
  "signed-out-others": "Your other devices are signed out.",
  "user-added": "The account is created.",
  "user-deleted": "The account and its chats are deleted.",
  "password-set": "The password is set; that person's sessions have ended.",
  "signup-opened": "Sign-up is open.",
  "signup-closed": "Sign-up is closed.",
  "limits-saved": "The spending limits are saved.",
  "person-limits-saved": "That person's spending limits are saved.",
  "user-disabled": "The account is disabled: that person is signed out everywhere and cannot sign in.",
  "user-enabled": "The account is enabled: that person can sign in again.",
  "sso-linked": "Your account is linked: you can sign in with it.",
  "sso-unlinked": "Your account is unlinked; sign in with your password from now on.",
} as const;
const ONLY_ADMIN = "Only an admin can do that: this page is for whoever looks after this Parley.";
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

/** The limit fields of a refused form, as typed (short, text only). */
const typedLimits = (f: Form) =>
  Object.fromEntries(["day", "month", "siteMonth"].map((k) => [k, typeof f[k] === "string" ? f[k].slice(0, 40) : ""]));

/** Set-up, sign-in or sign-up's page, with the provider's button when single sign-on is set up. */
export function authPages(auth: AuthService, config: Config, assets: AssetUrls) {
  return (
    mode: AuthMode,
    extra: Pick<AuthPageProps, "error" | "notice" | "username" | "next" | "providerSignOut"> = {},
  ) =>
    auth.signupOpen().then((signupOpen) =>
      AuthPage({
        assets,
        mode,
        signupOpen,
        sso: config.oidcIssuer ? config.oidcLabel : undefined,
        passwords: config.passwordSignIn,
        ...extra,
      }),
    );
}

// Sign-in page notices after a redirect, by code as for DONE.
const SIGNED_OUT = {
  "signed-out": "You are signed out.",
  "sso-signed-out": "You are signed out of Parley.",
} as const;

/** Set-up, sign-in, sign-up and sign-out; the account page; the admin page. Plain forms, no script. */
export function authRoutes(
  auth: AuthService,
  config: Config,
  assets: AssetUrls,
  limits: LimitsService,
  sso: SsoService | undefined,
) {
  const authPage = authPages(auth, config, assets);

  /** Signs the browser in: a fresh token in a fresh cookie, then on to the chats. */
  const enter = (request: Request, set: { headers: Record<string, unknown> }, token: string) => {
    set.headers["set-cookie"] = sessionCookie(token, config, isHttps(request, config));
    set.headers["cache-control"] = "no-store";
  };

  /** An AuthError becomes the form again with its sentence and status; anything else is a bug. */
  async function refusal<T>(
    action: () => Promise<T>,
    page: (error: string) => Promise<JSX.Element>,
    set: { headers: Record<string, unknown> },
  ): Promise<T | Response> {
    try {
      return await action();
    } catch (err) {
      if (err instanceof LimitError) return pageWithStatus(400, await page(err.message));
      if (!(err instanceof AuthError)) throw err;
      if (err.retryAfterMs) set.headers["retry-after"] = String(Math.ceil(err.retryAfterMs / 1000));
      return pageWithStatus(err.status, await page(err.message));
    }
  }

  /**
   * The three doors' forms: on success a fresh session and on to the chats; refused, the same
   * form again with its sentence and the username kept.
   */
  const enterBy = (
    mode: AuthMode,
    ctx: {
      body: unknown;
      request: Request;
      server: Parameters<typeof clientAddress>[1];
      set: { headers: Record<string, unknown> };
      redirect: (url: string, status: 303) => unknown;
    },
    start: (f: Form, userAgent: string | null, address: string) => Promise<{ token: string }>,
  ) => {
    const f = form(ctx.body);
    return refusal(
      async () => {
        const address = clientAddress(ctx.request, ctx.server, config);
        const { token } = await start(f, ctx.request.headers.get("user-agent"), address);
        enter(ctx.request, ctx.set, token);
        return ctx.redirect(nextPath(f.next), 303);
      },
      (error) => authPage(mode, { error, username: String(f.username ?? "").slice(0, 40), next: nextPath(f.next) }),
      ctx.set,
    );
  };

  const entry = new Elysia()
    .use(signedIn(auth))
    .get("/setup", async ({ redirect }) => {
      if (!(await auth.needsSetup())) return redirect("/signin", 303);
      return authPage("setup");
    })
    .post("/setup", (ctx) =>
      enterBy("setup", ctx, (f, userAgent, address) => auth.setUp(f.username, f.password, address, userAgent)),
    )
    .get("/signin", async ({ me, query, redirect }) => {
      if (await auth.needsSetup()) return redirect("/setup", 303);
      if (me) return redirect(nextPath(query.next), 303);
      const done =
        typeof query.done === "string" && query.done in SIGNED_OUT
          ? (query.done as keyof typeof SIGNED_OUT)
          : undefined;
      return authPage("signin", {
        next: nextPath(query.next),
        notice: done && SIGNED_OUT[done],
        providerSignOut: done === "sso-signed-out",
      });
    })
    .post("/signin", (ctx) =>
      enterBy("signin", ctx, (f, userAgent, address) => auth.signIn(f.username, f.password, address, userAgent)),
    )
    .get("/signup", async ({ redirect }) => {
      if (await auth.needsSetup()) return redirect("/setup", 303);
      if (!config.passwordSignIn) return redirect("/signin", 303);
      if (!(await auth.signupOpen())) {
        return pageWithStatus(
          403,
          await authPage("signin", { error: "Sign-up is closed; ask the admin for an account." }),
        );
      }
      return authPage("signup");
    })
    .post("/signup", (ctx) =>
      enterBy("signup", ctx, (f, userAgent, address) => auth.signUp(f.username, f.password, address, userAgent)),
    )
    .post("/signout", async ({ me, request, server, set, redirect }) => {
      if (me) await auth.signOut(me.session.id, { user: me.user, ip: clientAddress(request, server, config) });
      set.headers["set-cookie"] = clearedCookie(isHttps(request, config));
      // Signed in with the provider: the sign-in page offers its sign-out too (the person may share the device).
      return redirect(me?.session.identityId && sso ? "/signin?done=sso-signed-out" : "/signin", 303);
    });

  const accountPage = async (me: SignedIn, extra: { error?: string; notice?: string }) =>
    AccountPage({
      assets,
      user: me.user,
      sessions: await auth.sessions(me.user.id),
      currentSessionId: me.session.id,
      allowances: await limits.allowances(me.user.id),
      passwords: config.passwordSignIn,
      sso: sso && { label: sso.label, identity: await sso.identity(me.user.id) },
      ...extra,
    });

  const account = new Elysia()
    .use(requireSignIn(auth))
    .get("/account", ({ me, query }) =>
      accountPage(me!, { notice: done(query.done), error: sso && ssoRefusal(query.sso, sso.label) }),
    )
    .post("/account/password", async ({ me, body, redirect, set }) => {
      const f = form(body);
      return refusal(
        async () => {
          await auth.changePassword(me!, f.current, f.password);
          return redirect("/account?done=password", 303);
        },
        (error) => accountPage(me!, { error }),
        set,
      );
    })
    .post("/account/signout-others", async ({ me, redirect }) => {
      await auth.endSessions(me!.user.id, me!.session.id);
      return redirect("/account?done=signed-out-others", 303);
    });

  const adminPage = async (
    me: { user: User },
    extra: Pick<AdminPageProps, "error" | "notice" | "adding" | "typedLimits">,
  ) =>
    AdminPage({
      assets,
      user: me.user,
      users: await auth.listUsers(),
      signupOpen: await auth.signupOpen(),
      limits: await limits.site(),
      siteSpent: await limits.siteSpent(),
      ...extra,
    });

  const admin = new Elysia()
    .use(requireSignIn(auth))
    .onBeforeHandle({ as: "local" }, async ({ me, request, status }) => {
      if (me!.user.isAdmin) return;
      // A person who followed a link here gets a page with a way back; a script, the sentence.
      if (!(request.headers.get("accept") ?? "").includes("text/html")) return status(403, ONLY_ADMIN);
      return pageWithStatus(403, await errorPage(403, ONLY_ADMIN, assets));
    })
    .get("/admin", ({ me, query }) => adminPage(me!, { notice: done(query.done) }))
    .post("/admin/signup", async ({ me, body, request, server, redirect }) => {
      const open = form(body).open === "true";
      await auth.setSignupOpen(open, { user: me!.user, ip: clientAddress(request, server, config) });
      return redirect(`/admin?done=${open ? "signup-opened" : "signup-closed"}`, 303);
    })
    .post("/admin/users", ({ me, body, request, server, redirect, set }) => {
      const f = form(body);
      return refusal(
        async () => {
          const by = { user: me!.user, ip: clientAddress(request, server, config) };
          await auth.createUser(f.username, f.password, f.admin === "true", by);
          return redirect("/admin?done=user-added", 303);
        },
        // What was typed stays, so the admin fixes what was wrong; the password is never sent back.
        (error) =>
          adminPage(me!, {
            error,
            adding: { username: String(f.username ?? "").slice(0, 40), admin: f.admin === "true" },
          }),
        set,
      );
    })
    .post("/admin/users/:id/password", ({ me, params, body, request, server, redirect, set }) =>
      refusal(
        async () => {
          const by = { user: me!.user, ip: clientAddress(request, server, config) };
          await auth.resetPassword({ id: params.id }, form(body).password, by);
          return redirect("/admin?done=password-set", 303);
        },
        (error) => adminPage(me!, { error }),
        set,
      ),
    )
    .post("/admin/limits", ({ me, body, redirect, set }) => {
      const f = form(body);
      return refusal(
        async () => {
          await limits.saveSite(me!.user, f);
          return redirect("/admin?done=limits-saved", 303);
        },
        // What was typed stays, so the admin fixes the one field that was wrong.
        (error) => adminPage(me!, { error, typedLimits: typedLimits(f) }),
        set,
      );
    })
    .post("/admin/users/:id/limits", ({ me, params, body, redirect, set }) =>
      refusal(
        async () => {
          if (!(await limits.savePerson(me!.user, params.id, form(body))))
            throw new AuthError("There is no such person.");
          return redirect("/admin?done=person-limits-saved", 303);
        },
        (error) => adminPage(me!, { error }),
        set,
      ),
    )
    .post("/admin/users/:id/disable", ({ me, params, redirect, set }) =>
      refusal(
        async () => {
          await auth.setDisabled(me!.user, params.id, true);
          return redirect("/admin?done=user-disabled", 303);
        },
        (error) => adminPage(me!, { error }),
        set,
      ),
    )
    .post("/admin/users/:id/enable", ({ me, params, redirect, set }) =>
      refusal(
        async () => {
          await auth.setDisabled(me!.user, params.id, false);
          return redirect("/admin?done=user-enabled", 303);
        },
        (error) => adminPage(me!, { error }),
        set,
      ),
    )
    .post("/admin/users/:id/delete", ({ me, params, request, server, redirect, set }) =>
      refusal(
        async () => {
          await auth.deleteUser(me!.user, params.id, clientAddress(request, server, config));
          return redirect("/admin?done=user-deleted", 303);
        },
        (error) => adminPage(me!, { error }),
        set,
      ),
    );

  return new Elysia({ name: "auth-routes" }).use(entry).use(account).use(admin);
}
