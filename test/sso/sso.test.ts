import { afterAll, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { SESSION_COOKIE } from "../../src/auth/cookie.ts";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { auditLog, groupMembers, groups, identities, sessions, users } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import {
  browse,
  CLIENT_ID,
  CLIENT_SECRET,
  CookieJar,
  startOidcProvider,
  type TestProvider,
  throughProvider,
} from "../support/oidc-provider.ts";
import { alertOf } from "../support/page-text.ts";
import {
  type BareServer,
  startBareServer,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/server.ts";

const provider: TestProvider = await startOidcProvider();
afterAll(() => provider.stop());

const ssoEnv = (extra: Record<string, string> = {}) => ({
  OIDC_ISSUER: provider.issuer,
  OIDC_CLIENT_ID: CLIENT_ID,
  OIDC_CLIENT_SECRET: CLIENT_SECRET,
  OIDC_LABEL: "Acme SSO",
  ...extra,
});

provider.people.set("ann", {
  sub: "sub-ann",
  preferred_username: "Ann",
  email: "ann@example.com",
  name: "Ann Example",
});
provider.people.set("tess", { sub: "tess", preferred_username: "tester", email: "tess@example.com" });
provider.people.set("impostor", { sub: "impostor", preferred_username: "ann", email: "ann@example.com" });
provider.people.set("gus", { sub: "gus", preferred_username: "gus", groups: [] });
provider.people.set("linda", { sub: "linda", email: "linda@example.com" });

/**
 * The whole trip without a browser: Parley's start, the provider's login and consent, and the
 * callback, followed. Answers the callback's response and the jar (Parley's session cookie, if any).
 */
async function signInWith(
  server: BareServer,
  login: string,
  opts: { consent?: "give" | "refuse"; jar?: CookieJar; start?: string; headers?: Record<string, string> } = {},
) {
  const jar = opts.jar ?? new CookieJar();
  const callback = await throughProvider(jar, `${server.url}${opts.start ?? "/auth/oidc/start"}`, {
    login,
    consent: opts.consent,
    until: `${server.url}/auth/oidc/callback`,
    init: opts.headers ? { headers: opts.headers } : undefined,
  });
  const res = await browse(jar, callback);
  return { res, jar, callback, session: jar.get(server.url, SESSION_COOKIE) };
}

eachDriver("single sign-on over HTTP", (t) => {
  let server: TestServer;
  const sessionCount = async () =>
    (await t.database.rows<{ n: number }>(sql`select count(*)::int as n from sessions`))[0]!.n;
  const userNamed = async (username: string) =>
    (await t.database.db.select().from(users).where(eq(users.username, username)))[0];

  beforeAll(async () => {
    server = await startTestServer(
      t,
      ssoEnv({ OIDC_ADMIN_GROUP: "parley-admins", OIDC_GROUP_MAP: "/eng=Engineers, sales=Sales, /eng=Builders" }),
    );
    await provider.register(server.url);
  });
  afterAll(() => server.stop());

  test("the sign-in page offers the provider beside the password form", async () => {
    const page = await (await fetch(`${server.url}/signin?next=/chats/x`)).text();
    expect(page).toContain('href="/auth/oidc/start?next=%2Fchats%2Fx"');
    expect(page).toContain("Sign in with Acme SSO");
    expect(page).toContain('name="password"');
  });

  test("a first sign-in makes the account, keyed by issuer and sub; the next finds it; the e-mail never joins two people", async () => {
    const before = await sessionCount();
    const first = await signInWith(server, "ann", { start: "/auth/oidc/start?next=/account" });
    expect([first.res.status, first.res.headers.get("location")]).toEqual([303, "/account"]);
    expect(first.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await sessionCount()).toBe(before + 1);
    const ann = await userNamed("ann");
    expect(ann).toBeDefined();
    expect(ann!.passwordHash).toBeNull();
    expect(ann!.isAdmin).toBe(false);
    const [link] = await t.database.db.select().from(identities).where(eq(identities.userId, ann!.id));
    expect([link!.issuer, link!.subject, link!.label]).toEqual([provider.issuer, "ann", "Ann"]);
    const [session] = await t.database.db.select().from(sessions).where(eq(sessions.userId, ann!.id));
    expect(session!.identityId).toBe(link!.id);

    // Signed in: the account page is theirs, and says how they sign in.
    const account = await browse(first.jar, `${server.url}/account`);
    const html = await account.text();
    expect(account.status).toBe(200);
    expect(html).toContain("Signed in as <strong>ann</strong>");
    expect(html).toContain("Linked to <strong>Acme SSO</strong> as <strong>Ann</strong>");
    expect(html).not.toContain("Change password");
    expect(html).not.toContain("Unlink");

    const again = await signInWith(server, "ann");
    expect(again.res.headers.get("location")).toBe("/");
    expect((await t.database.db.select().from(users).where(sql`${users.username} like 'ann%'`)).length).toBe(1);

    // Another person at the provider with the same e-mail and username is another account.
    await signInWith(server, "impostor");
    const impostor = await userNamed("ann-2");
    expect(impostor).toBeDefined();
    expect(impostor!.id).not.toBe(ann!.id);
    // A provider's username that a password account has: the new account gets a number.
    await signInWith(server, "tess");
    expect(await userNamed("tester-2")).toBeDefined();
    expect((await userNamed("tester"))!.passwordHash).not.toBeNull();
    // The admin sees who signs in how.
    const admin = await (await server.fetch("/admin")).text();
    const row = (name: string) =>
      admin.slice(admin.indexOf(`>${name}</span>`), admin.indexOf("</li>", admin.indexOf(`>${name}</span>`)));
    expect(row("ann")).toContain("single sign-on · 0 chats");
    expect(row("tester")).not.toContain("single sign-on");
    // No username at the provider: the e-mail's first part.
    await signInWith(server, "linda");
    expect(await userNamed("linda")).toBeDefined();
  });

  test("admin and the mapped groups follow the provider's claims at each sign-in; unmapped groups are left alone", async () => {
    const [engineers] = await t.database.db.insert(groups).values({ name: "Engineers" }).returning();
    const [builders] = await t.database.db.insert(groups).values({ name: "builders" }).returning();
    const [readers] = await t.database.db.insert(groups).values({ name: "Readers" }).returning();
    provider.people.get("gus")!.groups = ["parley-admins", "/eng"];
    await signInWith(server, "gus");
    const gus = await userNamed("gus");
    expect(gus!.isAdmin).toBe(true);
    expect(gus!.passwordHash).toBeNull();
    const memberOf = async () =>
      (await t.database.db.select().from(groupMembers).where(eq(groupMembers.userId, gus!.id)))
        .map((m) => m.groupId)
        .sort();
    expect(await memberOf()).toEqual([engineers!.id, builders!.id].sort());
    // An admin put them in a group the mapping does not name.
    await t.database.db.insert(groupMembers).values({ groupId: readers!.id, userId: gus!.id });

    provider.people.get("gus")!.groups = ["sales"];
    const { jar } = await signInWith(server, "gus");
    expect((await userNamed("gus"))!.isAdmin).toBe(false);
    expect(await memberOf()).toEqual([readers!.id]);
    // Already signed in elsewhere, they are no admin there either now.
    expect((await browse(jar, `${server.url}/admin`, { headers: { accept: "text/html" } })).status).toBe(403);
    const changes = await t.database.db.select().from(auditLog).where(eq(auditLog.action, "sso.roles"));
    expect(changes.map((c) => c.detail)).toEqual([
      // Made an admin by their first sign-in, which made the account.
      { changed: ["added to Engineers", "added to builders"] },
      { changed: ["no longer admin", "taken out of Engineers", "taken out of builders"] },
    ]);
  });

  test("the provider's refusals and a forged return each get a sentence, and none makes a session", async () => {
    const before = await sessionCount();

    const refused = await signInWith(server, "ann", { consent: "refuse" });
    expect(refused.res.status).toBe(403);
    expect(alertOf(await refused.res.text())).toBe(
      "You did not allow Parley to sign you in with Acme SSO, so you are not signed in.",
    );

    // The state in the return changed on the way: not the sign-in this browser started.
    const jar = new CookieJar();
    const callback = await throughProvider(jar, `${server.url}/auth/oidc/start`, {
      login: "ann",
      until: `${server.url}/auth/oidc/callback`,
    });
    const forged = new URL(callback);
    forged.searchParams.set("state", "an-attackers-state");
    const tampered = await browse(jar, forged.href);
    expect(tampered.status).toBe(400);
    expect(alertOf(await tampered.text())).toStartWith("This sign-in does not match the one this browser started");
    // The trip is over for this browser, forged or not: the real return is refused as used.
    const late = await browse(jar, callback);
    expect(alertOf(await late.text())).toBe(
      "This sign-in has expired or was already used, so nobody was signed in. Start again.",
    );

    // A code used once, presented again with the same trip (a copied cookie): the provider refuses it.
    const once = new CookieJar();
    const used = await throughProvider(once, `${server.url}/auth/oidc/start`, {
      login: "ann",
      until: `${server.url}/auth/oidc/callback`,
    });
    const trip = once.get(server.url, "parley_sso")!;
    expect((await browse(once, used)).status).toBe(303);
    const sessionsAfterOne = await sessionCount();
    const copy = new CookieJar();
    copy.set(server.url, "parley_sso", trip);
    const replayed = await browse(copy, used);
    expect(replayed.status).toBe(400);
    expect(alertOf(await replayed.text())).toBe(
      "The sign-in code from Acme SSO had expired or was already used, so nobody was signed in. Start again.",
    );
    expect(await sessionCount()).toBe(sessionsAfterOne);

    // A code kept past its lifetime.
    provider.codeSeconds = 1;
    try {
      const slow = new CookieJar();
      const stale = await throughProvider(slow, `${server.url}/auth/oidc/start`, {
        login: "ann",
        until: `${server.url}/auth/oidc/callback`,
      });
      await Bun.sleep(2100);
      const expired = await browse(slow, stale);
      expect(alertOf(await expired.text())).toBe(
        "The sign-in code from Acme SSO had expired or was already used, so nobody was signed in. Start again.",
      );
    } finally {
      provider.codeSeconds = 60;
    }

    // An ID token for another application, signed with the provider's real key.
    provider.audience = "another-app";
    try {
      const other = await signInWith(server, "ann");
      expect(other.res.status).toBe(502);
      expect(alertOf(await other.res.text())).toBe(
        "Acme SSO sent a token meant for another application, so nobody was signed in. Tell your admin: OIDC_CLIENT_ID may not be this Parley's.",
      );
    } finally {
      provider.audience = undefined;
    }
    expect(await sessionCount()).toBe(sessionsAfterOne);
    expect(sessionsAfterOne).toBe(before + 1);
    const reasons = (await t.database.db.select().from(auditLog).where(eq(auditLog.action, "sso.refused"))).map(
      (r) => (r.detail as { reason: string }).reason,
    );
    expect(reasons).toEqual(["refused", "state", "code", "code", "audience"]);
  });

  test("the ID token's signature is checked against the provider's JWKS; a rotated key is fetched once Parley's copy is a minute old", async () => {
    await signInWith(server, "ann");
    const oldKid = provider.kid();
    await provider.rotateKeys();
    expect(provider.kid()).not.toBe(oldKid);
    // Signed with a key Parley's copy of the JWKS (fetched just now) does not hold: refused, no session.
    const before = await sessionCount();
    const early = await signInWith(server, "ann");
    expect(early.res.status).toBe(502);
    expect(alertOf(await early.res.text())).toBe(
      "Acme SSO's token was signed with a key Parley does not know yet (the provider may have just changed its keys), so nobody was signed in. Try again in a minute.",
    );
    expect(await sessionCount()).toBe(before);
    // openid-client fetches the JWKS again for an unknown key once its copy is a minute old.
    setSystemTime(new Date(Date.now() + 61_000));
    try {
      const after = await signInWith(server, "ann");
      expect(after.res.headers.get("location")).toBe("/");
      expect(after.session).toBeDefined();
    } finally {
      setSystemTime();
    }
  });

  test("a password account links the provider's from its account page, then signs in with either; only from this site", async () => {
    const bob = await server.signUp("bob-links");
    const jar = new CookieJar();
    jar.set(server.url, SESSION_COOKIE, bob.cookie.split("=")[1]!);
    provider.people.set("robert", { sub: "robert", preferred_username: "robert" });

    // Another site's link cannot send a signed-in person off to link.
    const crossSite = await browse(jar, `${server.url}/account/sso/link`, {
      headers: { "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.status).toBe(403);

    const linked = await signInWith(server, "robert", {
      jar,
      start: "/account/sso/link",
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(linked.res.headers.get("location")).toBe("/account?done=sso-linked");
    const account = await (await browse(jar, `${server.url}/account?done=sso-linked`)).text();
    expect(account).toContain("Your account is linked: you can sign in with it.");
    expect(account).toContain("Linked to <strong>Acme SSO</strong> as <strong>robert</strong>");
    expect(account).toContain("Unlink Acme SSO");
    expect(account).toContain("Change password");

    const viaProvider = await signInWith(server, "robert");
    const [session] = await t.database.db
      .select()
      .from(sessions)
      .where(sql`${sessions.userId} = ${bob.user.id} and ${sessions.identityId} is not null`);
    expect(session).toBeDefined();
    expect(viaProvider.res.headers.get("location")).toBe("/");
    expect(await userNamed("robert")).toBeUndefined();

    // Ann's provider account is linked to Ann: Bob cannot take it (a browser signed in as Ann at the provider).
    const annAtProvider = new CookieJar();
    annAtProvider.set(server.url, SESSION_COOKIE, bob.cookie.split("=")[1]!);
    const taken = await signInWith(server, "ann", {
      jar: annAtProvider,
      start: "/account/sso/link",
      headers: { "sec-fetch-site": "same-origin" },
    });
    expect(taken.res.headers.get("location")).toBe("/account?sso=linked-elsewhere");
    const refusedPage = await (await browse(jar, `${server.url}/account?sso=linked-elsewhere`)).text();
    expect(alertOf(refusedPage)).toBe(
      "That Acme SSO account is already linked to another Parley account; nothing was changed.",
    );

    const unlink = await browse(jar, `${server.url}/account/sso/unlink`, {
      method: "POST",
      headers: { origin: server.url },
    });
    expect(unlink.headers.get("location")).toBe("/account?done=sso-unlinked");
    expect(await t.database.db.select().from(identities).where(eq(identities.userId, bob.user.id))).toEqual([]);

    // An account with no password cannot unlink its only way in.
    const ann = await signInWith(server, "ann");
    const annUnlink = await browse(ann.jar, `${server.url}/account/sso/unlink`, {
      method: "POST",
      headers: { origin: server.url },
    });
    expect(annUnlink.headers.get("location")).toBe("/account?sso=no-other-way");
    expect((await t.database.db.select().from(identities).where(eq(identities.subject, "ann"))).length).toBe(1);
  });

  test("signing out ends Parley's session and offers the provider's sign-out, which comes back to Parley", async () => {
    const { jar } = await signInWith(server, "ann");
    const out = await browse(jar, `${server.url}/signout`, { method: "POST", headers: { origin: server.url } });
    expect(out.headers.get("location")).toBe("/signin?done=sso-signed-out");
    expect(jar.get(server.url, SESSION_COOKIE)).toBeUndefined();
    const page = await (await browse(jar, `${server.url}/signin?done=sso-signed-out`)).text();
    expect(page).toContain("You are signed out of Parley.");
    expect(page).toContain('href="/auth/oidc/signout"');
    const back = await throughProvider(jar, `${server.url}/auth/oidc/signout`, {
      login: "ann",
      until: `${server.url}/signin`,
    });
    expect(back).toBe(`${server.url}/signin?done=signed-out`);
    // A password session's sign-out has nothing more to offer.
    const password = await server.signIn("bob-links");
    const plain = await password.fetch("/signout", { method: "POST" });
    expect(plain.headers.get("location")).toBe("/signin");
  });
});

eachDriver("single sign-on, set up otherwise", (t) => {
  test("passwords off: the provider is the only way in, from the very first account, which administers", async () => {
    const server = startBareServer(t, ssoEnv({ PASSWORD_SIGN_IN: "false", OIDC_CREATE_ACCOUNTS: "false" }));
    await provider.register(server.url);
    try {
      const setup = await (await fetch(`${server.url}/setup`)).text();
      expect(setup).toContain("Create the admin account");
      expect(setup).toContain("Sign in with Acme SSO");
      expect(setup).not.toContain('name="password"');
      const typed = await fetch(`${server.url}/setup`, {
        method: "POST",
        headers: { origin: server.url },
        body: new URLSearchParams({ username: "sneaky", password: TEST_PASSWORD }),
      });
      expect(typed.status).toBe(403);
      expect(alertOf(await typed.text())).toBe("Passwords are turned off here; sign in with Acme SSO.");

      // No account yet: the first sign-in makes the admin, OIDC_CREATE_ACCOUNTS=false or not.
      const first = await signInWith(server, "gus");
      expect(first.res.headers.get("location")).toBe("/");
      const [gus] = await t.database.db.select().from(users).where(eq(users.username, "gus"));
      expect(gus!.isAdmin).toBe(true);
      // After that, nobody new gets in: only linked accounts.
      const before = (await t.database.db.select().from(sessions)).length;
      const stranger = await signInWith(server, "linda");
      expect(stranger.res.status).toBe(403);
      expect(alertOf(await stranger.res.text())).toBe(
        "No Parley account is linked to your Acme SSO account. Sign in with your password and link it from your account page, or ask your admin for an account.",
      );
      expect((await t.database.db.select().from(sessions)).length).toBe(before);

      const signin = await (await fetch(`${server.url}/signin`)).text();
      expect(signin).toContain("Sign in with Acme SSO");
      expect(signin).not.toContain('name="password"');
      expect(signin).not.toContain("Create an account");
      await server.app.decorator.auth.createUser("pat", TEST_PASSWORD);
      const password = await fetch(`${server.url}/signin`, {
        method: "POST",
        headers: { origin: server.url },
        body: new URLSearchParams({ username: "pat", password: TEST_PASSWORD }),
      });
      expect(password.status).toBe(403);
      expect(password.headers.get("set-cookie")).toBeNull();
      expect((await fetch(`${server.url}/signup`, { redirect: "manual" })).headers.get("location")).toBe("/signin");
    } finally {
      await server.stop();
    }
  });

  test("a provider that cannot be reached, a URL that is not its issuer, and a wrong client secret are named on the sign-in page", async () => {
    const closed = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const deadPort = closed.port;
    closed.stop(true);
    const away = startBareServer(t, { ...ssoEnv(), OIDC_ISSUER: `http://127.0.0.1:${deadPort}` });
    const wrong = startBareServer(t, ssoEnv({ OIDC_CLIENT_SECRET: "not-the-secret" }));
    // A URL at the provider that is not its issuer: no OpenID configuration there.
    const misnamed = startBareServer(t, ssoEnv({ OIDC_ISSUER: `${provider.issuer}/realms/nowhere` }));
    const awayServer = away;
    await provider.register(wrong.url);
    try {
      const before = (await t.database.db.select().from(sessions)).length;
      const unreachable = await fetch(`${awayServer.url}/auth/oidc/start`, { redirect: "manual" });
      expect(unreachable.status).toBe(502);
      expect(alertOf(await unreachable.text())).toBe(
        "Acme SSO could not be reached, so you are not signed in. Try again in a moment; if it goes on, tell your admin.",
      );
      const mismatch = await fetch(`${misnamed.url}/auth/oidc/start`, { redirect: "manual" });
      expect(mismatch.status).toBe(502);
      expect(alertOf(await mismatch.text())).toBe(
        "Signing in with Acme SSO is not set up right: Parley could not read its OpenID configuration. Tell your admin; Parley's log says why.",
      );
      const refused = await signInWith(wrong, "ann");
      expect(refused.res.status).toBe(502);
      expect(alertOf(await refused.res.text())).toBe(
        "Acme SSO refused Parley's client credentials, so nobody can sign in with it until your admin corrects OIDC_CLIENT_ID or OIDC_CLIENT_SECRET.",
      );
      expect((await t.database.db.select().from(sessions)).length).toBe(before);
    } finally {
      await awayServer.stop();
      await wrong.stop();
      await misnamed.stop();
    }
  });
});

describe("single sign-on settings", () => {
  test("are checked at start, each mistake named", () => {
    expect(() => loadConfig({ OIDC_ISSUER: "https://sso.example.com" })).toThrow(
      new ConfigError("OIDC_ISSUER is set but OIDC_CLIENT_ID is not: single sign-on needs both."),
    );
    expect(() => loadConfig({ PASSWORD_SIGN_IN: "false" })).toThrow(
      new ConfigError("PASSWORD_SIGN_IN=false needs OIDC_ISSUER: otherwise nobody could sign in."),
    );
    expect(() => loadConfig({ OIDC_SCOPES: "profile email" })).toThrow(
      'OIDC_SCOPES must include openid (got "profile email").',
    );
    expect(() => loadConfig({ OIDC_GROUP_MAP: "admins=Admins, nothing" })).toThrow(
      'OIDC_GROUP_MAP must be pairs like "provider group=Parley group", separated by commas (got "nothing").',
    );
    const config = loadConfig({ OIDC_GROUP_MAP: "/eng/web=Web team, ops = Ops", OIDC_SCOPES: " openid  groups " });
    expect(config.oidcGroupMap).toEqual([
      { from: "/eng/web", to: "Web team" },
      { from: "ops", to: "Ops" },
    ]);
    expect(config.oidcScopes).toBe("openid groups");
  });
});
