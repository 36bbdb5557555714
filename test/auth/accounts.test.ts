import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../../src/auth/cookie.ts";
import { migrate, migrations } from "../../src/db/migrate.ts";
import { chats, sessions, users } from "../../src/db/schema.ts";
import { DRIVERS, eachDriver, freshDatabase } from "../support/db.ts";
import { alertOf } from "../support/page-text.ts";
import {
  type BareServer,
  startBareServer,
  startTestServer,
  TEST_PASSWORD,
  type TestServer,
} from "../support/server.ts";
import type { TestSocket } from "../support/ws.ts";

/** When drizzle/0003_accounts.sql was generated (its folderMillis). */
const ACCOUNTS_MIGRATION = migrations.find((m) => m.sql.some((q) => q.includes('CREATE TABLE "users"')))!.folderMillis;

const post = (url: string, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(url + path, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { Origin: url, ...headers },
    redirect: "manual",
  });
const cookieOf = (res: Response) => res.headers.get("set-cookie") ?? "";
const tokenOf = (res: Response) => new RegExp(`(?:^|, )${SESSION_COOKIE}=([^;]*)`).exec(cookieOf(res))?.[1] ?? "";
const closeCode = (ws: TestSocket) =>
  new Promise<number>((resolve) => {
    if (ws.socket.readyState === WebSocket.CLOSED) return resolve(-1);
    ws.socket.addEventListener("close", (event) => resolve(event.code), { once: true });
  });

eachDriver("first run", (t) => {
  let server: BareServer;
  beforeAll(() => {
    server = startBareServer(t);
  });
  afterAll(() => server.stop());

  test("the first visit is sent to create the admin account; afterwards set-up is closed and sign-in asked", async () => {
    const home = await fetch(server.url, { redirect: "manual" });
    expect([home.status, home.headers.get("location")]).toEqual([303, "/signin"]);
    const signin = await fetch(`${server.url}/signin`, { redirect: "manual" });
    expect(signin.headers.get("location")).toBe("/setup");
    const setup = await (await fetch(`${server.url}/setup`)).text();
    expect(setup).toContain('<label for="field-username" class="text-sm font-medium">Username</label>');
    expect(setup).toContain('<label for="field-password" class="text-sm font-medium">Password</label>');
    expect(setup).toContain(">Create account</button>");

    const weak = await post(server.url, "/setup", { username: "Admin", password: "pass word" });
    expect(weak.status).toBe(400);
    expect(alertOf(await weak.text())).toContain("at least 10 characters");
    const common = await post(server.url, "/setup", { username: "Admin", password: "Password123" });
    expect(alertOf(await common.text())).toStartWith(
      "That password is too easy to guess: it is a commonly used password;",
    );
    const badName = await post(server.url, "/setup", { username: "<b>x</b>", password: TEST_PASSWORD });
    expect(badName.status).toBe(400);
    expect(alertOf(await badName.text())).toContain("A username is 1 to 40 letters");
    expect(await t.database.db.select().from(users)).toEqual([]);

    const made = await post(server.url, "/setup", { username: " Admin ", password: TEST_PASSWORD });
    expect([made.status, made.headers.get("location")]).toEqual([303, "/"]);
    const cookie = cookieOf(made);
    expect(cookie).toMatch(
      new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; Max-Age=5184000; HttpOnly; SameSite=Lax$`),
    );
    const [admin] = await t.database.db.select().from(users);
    expect(admin).toMatchObject({ username: "admin", isAdmin: true });
    expect(admin!.passwordHash).toStartWith("$argon2id$");

    const page = await fetch(server.url, { headers: { cookie: `${SESSION_COOKIE}=${tokenOf(made)}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('title="Account">admin</a>');
    expect((await fetch(`${server.url}/setup`, { redirect: "manual" })).headers.get("location")).toBe("/signin");
    const again = await post(server.url, "/setup", { username: "mallory", password: TEST_PASSWORD });
    expect(again.status).toBe(409);
    expect(alertOf(await again.text())).toBe("This Parley already has an account; sign in instead.");
    expect((await fetch(`${server.url}/signin`)).status).toBe(200);
  });

  test("two set-up forms sent at once make one admin", async () => {
    await t.database.db.delete(users);
    // A fresh app: the one above remembers that an account exists.
    const fresh = startBareServer(t);
    try {
      const results = await Promise.all(
        ["first", "second", "third"].map((username) =>
          post(fresh.url, "/setup", { username, password: TEST_PASSWORD }),
        ),
      );
      expect(results.map((r) => r.status).sort()).toEqual([303, 409, 409]);
      expect(await t.database.db.select({ n: sql<number>`count(*)::int` }).from(users)).toEqual([{ n: 1 }]);
    } finally {
      await fresh.stop();
    }
  });
});

for (const driver of DRIVERS) {
  test(`chats made before accounts existed belong to the first account [${driver}]`, async () => {
    const t = await freshDatabase(driver, { migrated: false });
    try {
      // The schema as the last release without accounts left it, with a chat in it.
      const internals = t.database.db as unknown as {
        dialect: { migrate(m: unknown, session: unknown, config: unknown): Promise<void> };
        session: unknown;
      };
      const beforeAccounts = migrations.filter((m) => m.folderMillis < ACCOUNTS_MIGRATION);
      expect(beforeAccounts.length).toBe(3);
      await internals.dialect.migrate(beforeAccounts, internals.session, {
        migrationsFolder: "drizzle",
        migrationsSchema: "drizzle",
        migrationsTable: "__drizzle_migrations",
      });
      await t.database.rows(
        sql`insert into chats (id, title, model) values (${crypto.randomUUID()}, 'From before', 'm')`,
      );
      expect((await migrate(t.database, t.url)).applied).toBe(migrations.length - 3);

      const server = startBareServer(t);
      try {
        const made = await post(server.url, "/setup", { username: "owner", password: TEST_PASSWORD });
        const page = await fetch(server.url, { headers: { cookie: `${SESSION_COOKIE}=${tokenOf(made)}` } });
        expect(await page.text()).toContain(">From before</span>");
        const [owner] = await t.database.db.select().from(users);
        expect(await t.database.db.select({ userId: chats.userId }).from(chats)).toEqual([{ userId: owner!.id }]);
      } finally {
        await server.stop();
      }
    } finally {
      await t.close();
    }
  });
}

eachDriver("accounts and sessions", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t);
  });
  afterAll(() => server.stop());

  test("a link followed signed out leads, after signing in, where it pointed; never to another site", async () => {
    await server.signUp("dora");
    const chatPath = "/chats/01900000-0000-7000-8000-000000000000";
    const asked = async (path: string, headers: Record<string, string> = {}) =>
      fetch(server.url + path, { redirect: "manual", headers });
    expect((await asked(chatPath)).headers.get("location")).toBe(`/signin?next=${encodeURIComponent(chatPath)}`);
    expect((await asked("/account?tab=files")).headers.get("location")).toBe("/signin?next=%2Faccount%3Ftab%3Dfiles");
    expect((await asked("/")).headers.get("location")).toBe("/signin");
    // A fragment asked by htmx sends the page it was on to sign in, and back to that page after.
    const fragment = await asked("/search?q=x", { "HX-Request": "true", "HX-Current-URL": `${server.url}${chatPath}` });
    expect(fragment.headers.get("hx-redirect")).toBe(`/signin?next=${encodeURIComponent(chatPath)}`);
    const elsewhere = await asked("/search?q=x", { "HX-Request": "true", "HX-Current-URL": "https://evil.example/x" });
    expect(elsewhere.headers.get("hx-redirect")).toBe("/signin");

    // The form carries it; signing in goes there.
    const page = await (await asked("/signin?next=%2Faccount")).text();
    expect(page).toContain('<input type="hidden" name="next" value="/account"');
    const ok = await post(server.url, "/signin", { username: "dora", password: TEST_PASSWORD, next: "/account" });
    expect([ok.status, ok.headers.get("location")]).toEqual([303, "/account"]);
    // Refused, the form keeps it for the next try.
    const wrong = await post(server.url, "/signin", {
      username: "dora",
      password: "not the password",
      next: "/account",
    });
    expect(await wrong.text()).toContain('name="next" value="/account"');

    for (const next of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
      " /account",
    ]) {
      const res = await post(server.url, "/signin", { username: "dora", password: TEST_PASSWORD, next });
      expect([next, res.status, res.headers.get("location")]).toEqual([next, 303, "/"]);
    }
    // Already signed in, the sign-in page goes straight on.
    const cookie = `${SESSION_COOKIE}=${tokenOf(ok)}`;
    expect((await asked("/signin?next=%2Faccount", { cookie })).headers.get("location")).toBe("/account");
  });

  test("sign-in: a wrong password and an unknown name get the same sentence; each success a new token, stored hashed", async () => {
    await server.signUp("carol");
    const wrong = await post(server.url, "/signin", { username: "carol", password: "not the password" });
    const unknown = await post(server.url, "/signin", { username: "nobody-here", password: "not the password" });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    const sentence = "That username and password do not match an account.";
    expect(alertOf(await wrong.text())).toBe(sentence);
    expect(alertOf(await unknown.text())).toBe(sentence);
    expect(cookieOf(wrong)).toBe("");

    const first = await post(server.url, "/signin", { username: "Carol", password: TEST_PASSWORD });
    const second = await post(server.url, "/signin", { username: "carol", password: TEST_PASSWORD });
    expect([first.status, second.status]).toEqual([303, 303]);
    expect(tokenOf(first)).not.toBe(tokenOf(second));
    const stored = await t.database.db.select({ tokenHash: sessions.tokenHash }).from(sessions);
    const hashes = stored.map((s) => s.tokenHash);
    for (const token of [tokenOf(first), tokenOf(second)]) {
      expect(hashes).not.toContain(token);
      expect(hashes).toContain(new Bun.CryptoHasher("sha256").update(token).digest("hex"));
    }
    // Signed in, the sign-in page sends you on.
    const signin = await fetch(`${server.url}/signin`, {
      headers: { cookie: `${SESSION_COOKIE}=${tokenOf(first)}` },
      redirect: "manual",
    });
    expect(signin.headers.get("location")).toBe("/");
  });

  test("passwords are stored as argon2id of 19 MiB and 2 passes; one stored with the 64 MiB of before still signs in", async () => {
    await server.signUp("hazel");
    const [hazel] = await t.database.db.select().from(users).where(eq(users.username, "hazel"));
    expect(hazel!.passwordHash).toStartWith("$argon2id$v=19$m=19456,t=2,p=1$");
    const before = await Bun.password.hash(TEST_PASSWORD, { algorithm: "argon2id", memoryCost: 65_536, timeCost: 2 });
    await t.database.db.update(users).set({ passwordHash: before }).where(eq(users.id, hazel!.id));
    const signin = await post(server.url, "/signin", { username: "hazel", password: TEST_PASSWORD });
    expect(signin.status).toBe(303);
    expect(tokenOf(signin)).not.toBe("");
  });

  test("a forged, malformed or unknown cookie is nobody; htmx requests are told where to sign in", async () => {
    for (const value of ["", "x", "A".repeat(43), "../../etc/passwd", "%00", "a".repeat(5000)]) {
      const res = await fetch(server.url, { headers: { cookie: `${SESSION_COOKIE}=${value}` }, redirect: "manual" });
      expect([res.status, res.headers.get("location")]).toEqual([303, "/signin"]);
    }
    // htmx would swap a sign-in page into a fragment; HX-Redirect makes it load the page instead.
    const fragment = await fetch(`${server.url}/chats/${crypto.randomUUID()}/messages?before=${crypto.randomUUID()}`, {
      headers: { "hx-request": "true" },
    });
    expect([fragment.status, fragment.headers.get("hx-redirect")]).toEqual([401, "/signin"]);
  });

  test("sign-out ends the session and closes its sockets with 4001; the person's other session goes on", async () => {
    const here = await server.signUp("dave");
    const there = await server.signIn("dave");
    const hereSocket = await here.socket("/ws");
    const thereSocket = await there.socket("/ws");
    const closed = closeCode(hereSocket);
    const out = await here.fetch("/signout", { method: "POST" });
    expect([out.status, out.headers.get("location")]).toEqual([303, "/signin"]);
    expect(cookieOf(out)).toBe(`${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax`);
    expect(await closed).toBe(4001);
    expect((await here.fetch("/")).status).toBe(303);
    expect((await there.fetch("/")).status).toBe(200);
    expect(thereSocket.socket.readyState).toBe(WebSocket.OPEN);
    await thereSocket.close();
  });

  test("changing the password: the old one must be right, the new one pass the policy; other devices are signed out", async () => {
    const laptop = await server.signUp("erin");
    const phone = await server.signIn("erin");
    const phoneSocket = await phone.socket("/ws");
    const change = (current: string, password: string) =>
      laptop.fetch("/account/password", { method: "POST", body: new URLSearchParams({ current, password }) });
    const wrong = await change("not my password", "a brand new passphrase");
    expect(wrong.status).toBe(400);
    expect(alertOf(await wrong.text())).toBe("The current password is not right.");
    const weak = await change(TEST_PASSWORD, "erin-erin-erin");
    expect(weak.status).toBe(400);
    expect(alertOf(await weak.text())).toBe("The password must not contain the username.");
    expect((await phone.fetch("/")).status).toBe(200);

    const closed = closeCode(phoneSocket);
    const ok = await change(TEST_PASSWORD, "a brand new passphrase");
    expect([ok.status, ok.headers.get("location")]).toEqual([303, "/account?done=password"]);
    expect(await closed).toBe(4001);
    expect((await phone.fetch("/")).status).toBe(303);
    const account = await (await laptop.fetch("/account?done=password")).text();
    expect(account).toContain("Your password is changed; your other devices are signed out.");
    expect((await post(server.url, "/signin", { username: "erin", password: TEST_PASSWORD })).status).toBe(401);
    expect((await post(server.url, "/signin", { username: "erin", password: "a brand new passphrase" })).status).toBe(
      303,
    );
  });

  test("a session ends after SESSION_IDLE_DAYS unused and after SESSION_MAX_DAYS however used", async () => {
    const idle = await server.signUp("frank");
    const old = await server.signIn("frank");
    const day = 24 * 60 * 60 * 1000;
    const sessionOf = async (person: { cookie: string }) => {
      const hash = new Bun.CryptoHasher("sha256").update(person.cookie.split("=")[1]!).digest("hex");
      return (await t.database.db.select().from(sessions).where(eq(sessions.tokenHash, hash)))[0];
    };
    const idleRow = (await sessionOf(idle))!;
    const oldRow = (await sessionOf(old))!;
    expect((await idle.fetch("/")).status).toBe(200);
    await t.database.db
      .update(sessions)
      .set({ lastSeenAt: new Date(Date.now() - 15 * day) })
      .where(eq(sessions.id, idleRow.id));
    await t.database.db
      .update(sessions)
      .set({ createdAt: new Date(Date.now() - 61 * day), lastSeenAt: new Date() })
      .where(eq(sessions.id, oldRow.id));
    expect((await idle.fetch("/")).status).toBe(303);
    expect((await old.fetch("/")).status).toBe(303);
    expect(await sessionOf(idle)).toBeUndefined();
    expect(await sessionOf(old)).toBeUndefined();
  });

  test("over https the cookie is Secure and __Host- prefixed (PUBLIC_URL, or a trusted proxy's header); a plain one from before still works", async () => {
    const signIn = (url: string, headers: Record<string, string> = {}) =>
      post(url, "/signin", { username: "tester", password: TEST_PASSWORD }, headers);
    const https = { "x-forwarded-proto": "https" };
    const secureCookie = new RegExp(
      `^${SECURE_SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; Max-Age=5184000; HttpOnly; SameSite=Lax; Secure$`,
    );
    // The plain cookie a browser may hold from before is cleared, so it holds one.
    const clearPlain = `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure`;
    const plain = await signIn(server.url, https);
    expect(plain.headers.getSetCookie()).toEqual([expect.stringMatching(new RegExp(`^${SESSION_COOKIE}=`))]);
    expect(cookieOf(plain)).not.toContain("Secure");
    const proxied = startBareServer(t, { TRUST_PROXY: "true" });
    const published = startBareServer(t, { PUBLIC_URL: "https://chat.example.com" });
    try {
      expect((await signIn(proxied.url, https)).headers.getSetCookie()).toEqual([
        expect.stringMatching(secureCookie),
        clearPlain,
      ]);
      expect(cookieOf(await signIn(proxied.url))).not.toContain("Secure");
      // The test reaches the server by its address, as the proxy in front would, with the public name.
      const asPublished = { Origin: "https://chat.example.com", Host: "chat.example.com" };
      const res = await signIn(published.url, asPublished);
      expect(res.status).toBe(303);
      const [cookie] = res.headers.getSetCookie();
      expect(cookie).toMatch(secureCookie);
      const page = (cookieHeader: string) =>
        fetch(published.url, { headers: { Host: "chat.example.com", cookie: cookieHeader }, redirect: "manual" });
      expect((await page(cookie!.split(";")[0]!)).status).toBe(200);
      expect((await page(`${SESSION_COOKIE}=${tokenOf(plain)}`)).status).toBe(200);
      // A plain cookie planted beside the __Host- one (a sibling subdomain can set one) does not win.
      expect((await page(`${SESSION_COOKIE}=${"A".repeat(43)}; ${cookie!.split(";")[0]}`)).status).toBe(200);
      const out = await fetch(`${published.url}/signout`, {
        method: "POST",
        headers: { ...asPublished, cookie: cookie!.split(";")[0]! },
        redirect: "manual",
      });
      expect(out.headers.getSetCookie()).toEqual([
        `${SECURE_SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure`,
        clearPlain,
      ]);
    } finally {
      await proxied.stop();
      await published.stop();
    }
  });

  test("sign-in failures are throttled per address, with a sentence that says when to try again", async () => {
    // Behind a trusted proxy the address is the proxy's last X-Forwarded-For entry, so the test can vary it.
    // Per account, see test/auth/limits.test.ts.
    const proxied = startBareServer(t, { TRUST_PROXY: "true" });
    try {
      const attempt = (username: string, password: string, address: string) =>
        post(proxied.url, "/signin", { username, password }, { "x-forwarded-for": `6.6.6.6, ${address}` });
      for (let i = 0; i < 20; i++) expect((await attempt(`guess${i}`, "wrong password", "10.9.9.9")).status).toBe(401);
      const address = await attempt("tester", TEST_PASSWORD, "10.9.9.9");
      expect(address.status).toBe(429);
      expect(address.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(alertOf(await address.text())).toMatch(/^Too many failed sign-ins; try again in \d+ minutes?\.$/);
      // Another address is not held back by that one.
      expect((await attempt("tester", TEST_PASSWORD, "10.9.9.10")).status).toBe(303);
    } finally {
      await proxied.stop();
    }
  });

  test("sign-up is closed by default; the admin opens it; a non-admin cannot reach the admin page", async () => {
    const closed = await fetch(`${server.url}/signup`);
    expect(closed.status).toBe(403);
    expect(alertOf(await closed.text())).toBe("Sign-up is closed; ask the admin for an account.");
    expect((await post(server.url, "/signup", { username: "henry", password: TEST_PASSWORD })).status).toBe(403);
    expect(await (await fetch(`${server.url}/signin`)).text()).not.toContain('href="/signup"');

    const open = await server.fetch("/admin/signup", { method: "POST", body: new URLSearchParams({ open: "true" }) });
    expect(open.headers.get("location")).toBe("/admin?done=signup-opened");
    expect(await (await fetch(`${server.url}/signin`)).text()).toContain('href="/signup"');
    const made = await post(server.url, "/signup", { username: "henry", password: TEST_PASSWORD });
    expect(made.status).toBe(303);
    const henry = { cookie: `${SESSION_COOKIE}=${tokenOf(made)}` };
    const asHenry = (path: string, init: RequestInit = {}) =>
      fetch(server.url + path, {
        redirect: "manual",
        ...init,
        headers: { cookie: henry.cookie, Origin: server.url, ...(init.headers as object) },
      });
    expect((await asHenry("/")).status).toBe(200);
    expect((await asHenry("/admin")).status).toBe(403);
    expect(
      (await asHenry("/admin/signup", { method: "POST", body: new URLSearchParams({ open: "false" }) })).status,
    ).toBe(403);
    const taken = await post(server.url, "/signup", { username: "HENRY", password: TEST_PASSWORD });
    expect(taken.status).toBe(409);
    expect(alertOf(await taken.text())).toBe('The username "henry" is taken.');
    // Accounts one address may make are few per hour (henry was the first from this one).
    for (let i = 0; i < 4; i++) {
      expect((await post(server.url, "/signup", { username: `bulk${i}`, password: TEST_PASSWORD })).status).toBe(303);
    }
    const bulk = await post(server.url, "/signup", { username: "bulk5", password: TEST_PASSWORD });
    expect(bulk.status).toBe(429);
    expect(alertOf(await bulk.text())).toMatch(/^Too many new accounts from your address; try again in \d+ minutes\.$/);
    await server.fetch("/admin/signup", { method: "POST", body: new URLSearchParams({ open: "false" }) });
    expect((await fetch(`${server.url}/signup`)).status).toBe(403);
  });

  test("the admin adds people, sets a password (ending their sessions) and deletes an account with its chats", async () => {
    const add = await server.fetch("/admin/users", {
      method: "POST",
      body: new URLSearchParams({ username: "ivy", password: TEST_PASSWORD }),
    });
    expect(add.headers.get("location")).toBe("/admin?done=user-added");
    const dup = await server.fetch("/admin/users", {
      method: "POST",
      body: new URLSearchParams({ username: "ivy", password: TEST_PASSWORD }),
    });
    expect(dup.status).toBe(409);
    expect(alertOf(await dup.text())).toBe('The username "ivy" is taken.');
    const admin = await (await server.fetch("/admin")).text();
    expect(admin).toContain(">ivy</span>");

    const ivy = await server.signIn("ivy");
    const [ivyRow] = await t.database.db.select().from(users).where(eq(users.username, "ivy"));
    await t.database.db.insert(chats).values({ userId: ivyRow!.id, title: "Ivy's chat", model: "m" });
    const ivySocket = await ivy.socket("/ws");
    const closed = closeCode(ivySocket);
    const set = await server.fetch(`/admin/users/${ivyRow!.id}/password`, {
      method: "POST",
      body: new URLSearchParams({ password: "set by the admin" }),
    });
    expect(set.headers.get("location")).toBe("/admin?done=password-set");
    expect(await closed).toBe(4001);
    expect((await ivy.fetch("/")).status).toBe(303);

    const selfDelete = await server.fetch(`/admin/users/${server.user.id}/delete`, { method: "POST" });
    expect(selfDelete.status).toBe(400);
    expect(alertOf(await selfDelete.text())).toBe("You cannot delete your own account here.");
    const del = await server.fetch(`/admin/users/${ivyRow!.id}/delete`, { method: "POST" });
    expect(del.headers.get("location")).toBe("/admin?done=user-deleted");
    expect(await t.database.db.select().from(users).where(eq(users.id, ivyRow!.id))).toEqual([]);
    expect(await t.database.db.select().from(chats).where(eq(chats.userId, ivyRow!.id))).toEqual([]);
  });
});

eachDriver("the admin page's people", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t);
  });
  afterAll(() => server.stop());

  test("each person's count of chats is theirs, in the list and in the Delete button's words", async () => {
    const bob = await server.signUp("bob");
    const chat = (userId: string, title: string) => ({ userId, title, model: "m" });
    await t.database.db
      .insert(chats)
      .values([chat(bob.user.id, "one"), chat(bob.user.id, "two"), chat(server.user.id, "mine")]);
    const html = await (await server.fetch("/admin")).text();
    expect(html).toContain("admin · 1 chat · you");
    expect(html).toContain("2 chats");
    expect(html).toContain("Delete bob and their 2 chats");
  });
});
