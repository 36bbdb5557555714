import { afterAll, beforeAll, describe, expect, spyOn, test } from "bun:test";
import { like, sql } from "drizzle-orm";
import { createAuthService } from "../../src/auth/service.ts";
import { users } from "../../src/db/schema.ts";
import { silentLogger } from "../../src/log.ts";
import { DRIVERS, eachDriver, freshDatabase } from "../support/db.ts";
import { alertOf } from "../support/page-text.ts";
import { runParley, startParley } from "../support/process.ts";
import { type BareServer, type Person, startBareServer, TEST_PASSWORD } from "../support/server.ts";

/** Every limit here is counted before the password is hashed or checked, so a burst cannot pass it. */
eachDriver("limits on sign-in, sign-up, set-up and password changes", (t) => {
  let server: BareServer;
  let admin: Person;
  // Behind a trusted proxy the address is X-Forwarded-For's last entry, so each test picks its own.
  const post = (path: string, fields: Record<string, string>, address: string, cookie = "") =>
    fetch(server.url + path, {
      method: "POST",
      body: new URLSearchParams(fields),
      headers: { Origin: server.url, "x-forwarded-for": address, cookie },
      redirect: "manual",
    });
  const statuses = (responses: Response[]) => {
    const count: Record<number, number> = {};
    for (const r of responses) count[r.status] = (count[r.status] ?? 0) + 1;
    return count;
  };

  beforeAll(() => {
    server = startBareServer(t, { TRUST_PROXY: "true" });
  });
  afterAll(() => server.stop());

  test("set-up forms are limited per address, counted whether or not they pass the policy", async () => {
    for (let i = 0; i < 10; i++) {
      expect((await post("/setup", { username: "admin", password: "short" }, "10.1.0.1")).status).toBe(400);
    }
    const limited = await post("/setup", { username: "admin", password: TEST_PASSWORD }, "10.1.0.1");
    expect(limited.status).toBe(429);
    expect(alertOf(await limited.text())).toMatch(/^Too many set-up attempts; try again in \d+ minutes\.$/);
    expect(await t.database.db.select().from(users)).toEqual([]);
    expect((await post("/setup", { username: "admin", password: TEST_PASSWORD }, "10.1.0.2")).status).toBe(303);
    admin = await server.signIn("admin");
  });

  test("once set up, a flood of set-up forms is refused before any password is hashed", async () => {
    const hash = spyOn(Bun.password, "hash");
    try {
      const flood = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          post("/setup", { username: `late${i}`, password: TEST_PASSWORD }, `10.1.1.${i}`),
        ),
      );
      expect(statuses(flood)).toEqual({ 409: 40 });
      expect(hash).not.toHaveBeenCalled();
    } finally {
      hash.mockRestore();
    }
  });

  test("60 concurrent wrong passwords for one account from one address: 5 are checked, the rest refused", async () => {
    await server.signUp("burst");
    const verify = spyOn(Bun.password, "verify");
    try {
      const burst = await Promise.all(
        Array.from({ length: 60 }, () =>
          post("/signin", { username: "burst", password: "not the password" }, "10.2.0.1"),
        ),
      );
      expect(statuses(burst)).toEqual({ 401: 5, 429: 55 });
      expect(verify).toHaveBeenCalledTimes(5);
    } finally {
      verify.mockRestore();
    }
  });

  test("30 concurrent sign-ups from one address make 5 accounts", async () => {
    await server.app.decorator.auth.setSignupOpen(true);
    try {
      const burst = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          post("/signup", { username: `many${i}`, password: TEST_PASSWORD }, "10.3.0.1"),
        ),
      );
      expect(statuses(burst)).toEqual({ 303: 5, 429: 25 });
      const made = await t.database.db
        .select({ n: sql<number>`count(*)::int` })
        .from(users)
        .where(like(users.username, "many%"));
      expect(made).toEqual([{ n: 5 }]);
    } finally {
      await server.app.decorator.auth.setSignupOpen(false);
    }
  });

  test("wrong passwords lock out the address that sent them, not the account: its owner signs in from elsewhere", async () => {
    for (let i = 0; i < 5; i++) {
      expect((await post("/signin", { username: "admin", password: "a guess at it" }, "10.4.0.1")).status).toBe(401);
    }
    const locked = await post("/signin", { username: "admin", password: TEST_PASSWORD }, "10.4.0.1");
    expect(locked.status).toBe(429);
    expect(locked.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(alertOf(await locked.text())).toMatch(/^Too many failed sign-ins; try again in \d+ minutes?\.$/);
    expect((await post("/signin", { username: "admin", password: TEST_PASSWORD }, "10.4.0.2")).status).toBe(303);
    // A new password (here as `parley user reset-password` sets it) lets even the locked address in.
    await server.app.decorator.auth.resetPassword({ username: "admin" }, "a password set from the command line");
    const reset = await post(
      "/signin",
      { username: "admin", password: "a password set from the command line" },
      "10.4.0.1",
    );
    expect(reset.status).toBe(303);
    // The reset ended the admin's sessions: back to the test password, and signed in again.
    await server.app.decorator.auth.resetPassword({ username: "admin" }, TEST_PASSWORD);
    admin = await server.signIn("admin");
  });

  test("an account guessed at from many addresses is slowed, 1 s doubling to 8 s, never locked", async () => {
    await server.signUp("slowed");
    const pauses: number[] = [];
    const auth = createAuthService({
      database: t.database,
      config: server.config,
      log: silentLogger,
      pause: async (ms) => pauses.push(ms),
    });
    for (let i = 0; i < 9; i++) {
      await expect(auth.signIn("slowed", "a wrong guess", `10.5.0.${i}`, null)).rejects.toThrow(
        "That username and password do not match an account.",
      );
    }
    expect(pauses).toEqual([1000, 2000, 4000, 8000]);
    const owner = await auth.signIn("slowed", TEST_PASSWORD, "10.5.1.1", null);
    expect(owner.user.username).toBe("slowed");
    expect(pauses).toEqual([1000, 2000, 4000, 8000, 8000]);
    // Signed in, the account's count starts afresh.
    await auth.signIn("slowed", TEST_PASSWORD, "10.5.1.1", null);
    expect(pauses.length).toBe(5);
  });

  test("wrong current passwords on the change-password form are limited, counted before the check", async () => {
    const person = await server.signUp("changer");
    const change = (current: string) =>
      post("/account/password", { current, password: "a new long passphrase" }, "10.6.0.1", person.cookie);
    const burst = await Promise.all(Array.from({ length: 20 }, () => change("not my password")));
    expect(statuses(burst)).toEqual({ 400: 5, 429: 15 });
    const right = await change(TEST_PASSWORD);
    expect(right.status).toBe(429);
    expect(alertOf(await right.text())).toMatch(/^Too many wrong current passwords; try again in \d+ minutes\.$/);
  });

  test("easily guessed passwords are refused with the estimator's reason and advice", async () => {
    const cases = {
      "1234512345":
        "That password is too easy to guess: it repeats a pattern; leave out repetition and add a few less common words.",
      qwertyuiop1:
        "That password is too easy to guess: it is close to a commonly used password; add a few less common words.",
      Password123:
        "That password is too easy to guess: it is a commonly used password; add a few less common words; capitals help little.",
    };
    for (const [password, sentence] of Object.entries(cases)) {
      const res = await admin.fetch("/admin/users", {
        method: "POST",
        body: new URLSearchParams({ username: "weakling", password }),
      });
      expect(res.status).toBe(400);
      expect(alertOf(await res.text())).toBe(sentence);
    }
    expect(await t.database.db.select().from(users).where(like(users.username, "weakling"))).toEqual([]);
  });
});

// On Postgres the server keeps running while `parley user reset-password` runs beside it (the
// embedded database needs the server stopped first, and a restart forgets every count anyway).
describe.if(DRIVERS.includes("postgres"))("the admin locked out of the web page", () => {
  test("`parley user reset-password` lets them in at once, from the address that was refused, the server still running", async () => {
    const t = await freshDatabase("postgres");
    const env = { DATABASE_URL: t.url! };
    try {
      expect((await runParley(["user", "create", "boss"], env, undefined, TEST_PASSWORD)).code).toBe(0);
      const parley = await startParley(env);
      try {
        const signIn = (password: string) =>
          fetch(`${parley.url}/signin`, {
            method: "POST",
            headers: { Origin: parley.url },
            body: new URLSearchParams({ username: "boss", password }),
            redirect: "manual",
          });
        for (let i = 0; i < 5; i++) expect((await signIn("a forgotten password")).status).toBe(401);
        expect((await signIn("the password at last remembered")).status).toBe(429);
        const reset = await runParley(["user", "reset-password", "boss"], env, undefined, "a brand new admin password");
        expect(reset.code).toBe(0);
        expect((await signIn("a brand new admin password")).status).toBe(303);
      } finally {
        await parley.stop();
      }
    } finally {
      await t.close();
    }
  });
});
