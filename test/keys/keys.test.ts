import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { apiKeys, auditLog } from "../../src/db/schema.ts";
import { MAX_KEY_NAME, MAX_KEYS_PER_PERSON } from "../../src/limits.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { createKey, revokeKey } from "../support/keys.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const KEY_IDS = (html: string) => [...html.matchAll(/data-key="([0-9a-f-]+)"/g)].map((m) => m[1]!);

eachDriver("personal API keys on the account page", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake), { username: "keys-ann" });
    bob = await server.signUp("keys-bob");
  });
  afterAll(() => server.stop());

  const post = (who: Person, name: string) =>
    who.fetch("/account/keys", {
      method: "POST",
      headers: { "hx-request": "true" },
      body: new URLSearchParams({ name }),
    });
  const list = (who: Person) => who.fetch("/account/keys", { headers: { "hx-request": "true" } }).then((r) => r.text());

  test("the account page loads the keys section; a new key is shown once, then listed by name and prefix only", async () => {
    const page = await (await server.fetch("/account")).text();
    expect(page).toContain('hx-get="/account/keys"');
    expect(page).toContain("API keys");

    const made = await createKey(server, "laptop editor");
    expect(made.html).toContain("Copy it now");
    expect(made.html).toContain(`${server.url}/v1`);
    // Stored as a SHA-256 fingerprint, never the token.
    const [row] = await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, made.id));
    expect(row!.tokenHash).toBe(new Bun.CryptoHasher("sha256").update(made.token).digest("hex"));
    expect(row!.prefix).toBe(made.token.slice(0, 7));
    expect(JSON.stringify(row)).not.toContain(made.token);

    const again = await list(server);
    expect(again).not.toContain(made.token);
    expect(again).toContain("laptop editor");
    expect(again).toContain(`${made.token.slice(0, 7)}…`);
    expect(again).toContain("Never used");
    // A browser opening the fragment's address goes to the page.
    const plain = await server.fetch("/account/keys");
    expect([plain.status, plain.headers.get("location")]).toEqual([303, "/account"]);

    const [audited] = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "key.create"), eq(auditLog.actorId, server.user.id)));
    expect(audited).toMatchObject({ actorName: "keys-ann", target: "key laptop editor" });
    expect(audited!.detail).toMatchObject({ keyId: made.id });
  });

  test("a bad name is refused with a sentence (422, swapped in), and the name typed is kept", async () => {
    const cases: [string, string][] = [
      ["   ", "Give the key a name"],
      ["x".repeat(MAX_KEY_NAME + 1), `at most ${MAX_KEY_NAME} characters`],
      ["LAPTOP editor", "You already have a key named “LAPTOP editor”"],
    ];
    for (const [name, sentence] of cases) {
      const res = await post(server, name);
      const html = await res.text();
      expect({ name, status: res.status }).toEqual({ name, status: 422 });
      expect(html).toContain(sentence);
      expect(html).toContain('role="alert"');
      expect(html).not.toContain("api-key-new");
    }
    // What was typed goes back into the field escaped, and into the list the same way.
    const hostile = await post(server, '"><img src=x onerror=alert(1)>'.repeat(3));
    expect(await hostile.text()).not.toContain('"><img');
    const named = await createKey(server, "<b>bold</b>");
    expect(named.html).toContain("&lt;b&gt;bold&lt;/b&gt;");
    expect(named.html).not.toContain("<b>bold");
  });

  test(`at most ${MAX_KEYS_PER_PERSON} live keys; a revoked one frees its place and its name`, async () => {
    const live = KEY_IDS(await list(bob)).length;
    for (let i = live; i < MAX_KEYS_PER_PERSON; i++) await createKey(bob, `script ${i}`);
    const over = await post(bob, "one too many");
    expect(over.status).toBe(422);
    expect(await over.text()).toContain(`You have ${MAX_KEYS_PER_PERSON} keys, the most one person may have`);

    const [first] = KEY_IDS(await list(bob));
    const gone = await revokeKey(bob, first!);
    expect(gone.status).toBe(200);
    expect(KEY_IDS(await gone.text())).not.toContain(first);
    await createKey(bob, "one too many");
    expect(KEY_IDS(await list(bob)).length).toBe(MAX_KEYS_PER_PERSON);
    const [audited] = await t.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "key.revoke"), eq(auditLog.actorId, bob.user.id)));
    expect(audited!.detail).toMatchObject({ keyId: first });
  });

  test("nobody can revoke, or see, another person's key", async () => {
    const [annKey] = KEY_IDS(await list(server));
    expect(KEY_IDS(await list(bob))).not.toContain(annKey);
    const res = await revokeKey(bob, annKey!);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe("There is no such key.");
    expect((await revokeKey(bob, "not-an-id")).status).toBe(404);
    const [row] = await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, annKey!));
    expect(row!.revokedAt).toBeNull();
  });

  test("keys are made and revoked only from this site's pages, and only signed in", async () => {
    const forged = await server.fetch("/account/keys", {
      method: "POST",
      headers: { origin: "https://evil.example", "hx-request": "true" },
      body: new URLSearchParams({ name: "forged" }),
    });
    expect(forged.status).toBe(403);
    const anonymous = await fetch(`${server.url}/account/keys`, {
      method: "POST",
      headers: { origin: server.url },
      body: new URLSearchParams({ name: "anonymous" }),
    });
    expect(anonymous.status).toBe(401);
    const names = (await t.database.db.select({ name: apiKeys.name }).from(apiKeys)).map((r) => r.name);
    expect(names).not.toContain("forged");
    expect(names).not.toContain("anonymous");
  });
});
