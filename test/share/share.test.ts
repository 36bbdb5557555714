import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
import { chats, messages, shares } from "../../src/db/schema.ts";
import { createLogger } from "../../src/log.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const TOKEN_IN_PAGE = /value="http:\/\/127\.0\.0\.1:\d+\/s\/([A-Za-z0-9_-]+)"/;
const SHARE_IDS = (html: string) => [...html.matchAll(/data-share="([0-9a-f-]+)"/g)].map((m) => m[1]!);

eachDriver("sharing a read-only snapshot of a chat", (t) => {
  let server: TestServer;
  let bob: Person;
  const logLines: string[] = [];
  beforeAll(async () => {
    const log = createLogger({ level: "info", format: "json", write: (line) => logLines.push(line) });
    server = await startTestServer(t, fakeEnv(fake), { username: "owner-ann", log });
    bob = await server.signUp("bob-the-other");
  });
  afterAll(() => server.stop());

  const rowsOf = (chatId: string) =>
    t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id));
  const waitFor = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 400; i++) {
      if (await check()) return;
      await Bun.sleep(25);
    }
    throw new Error("condition never held");
  };

  /** A chat started the way the browser starts one, settled: its answer ended and the model named it. */
  const startChat = async (who: Person, content: string, answer?: string) => {
    if (answer) fake.queue({ text: answer });
    const made = await who.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content, model: "fake/fast" }),
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    await waitFor(async () => {
      const [chat] = await t.database.db.select().from(chats).where(eq(chats.id, chatId));
      const rows = await rowsOf(chatId);
      return chat!.title.startsWith("About") && rows.every((m) => m.status !== "streaming");
    });
    return chatId;
  };

  const publish = (who: Person, chatId: string) => who.fetch(`/chats/${chatId}/shares`, { method: "POST" });
  /** Publishes and returns the token the dialog shows, and the new link's id. */
  const share = async (who: Person, chatId: string) => {
    const res = await publish(who, chatId);
    expect(res.status).toBe(200);
    const html = await res.text();
    return { token: TOKEN_IN_PAGE.exec(html)![1]!, id: SHARE_IDS(html)[0]!, html };
  };
  /** The shared page as someone signed out sees it. */
  const view = (token: string) => fetch(`${server.url}/s/${token}`, { redirect: "manual" });
  const revoke = (who: Person, id: string) => who.fetch(`/shares/${id}`, { method: "DELETE" });
  const listAll = async (who: Person) => (await who.fetch("/shares", { headers: { "HX-Request": "true" } })).text();
  const countShares = async () => (await t.database.db.select().from(shares)).length;

  test("a published link shows the chat signed out: its title and messages, and nothing of the account or other chats", async () => {
    await startChat(server, "My other private chat", "Nothing to see");
    const chatId = await startChat(server, "Plan the garden", "Plant **tomatoes** in May.");
    const { token } = await share(server, chatId);

    const res = await view(token);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    const html = await res.text();
    expect(html).toContain("About Plan the"); // the title the model gave it
    expect(html).toContain("Plan the garden");
    expect(html).toContain("Plant <strong>tomatoes</strong> in May.");
    expect(html).toContain("A read-only snapshot shared from Parley on");
    for (const absent of [
      "other private chat", // another chat's title and message
      "owner-ann", // the username
      "ws-connect", // no socket
      'hx-ext="ws"',
      "/assets/htmx-ws.", // nor the script of the socket it never opens
      'id="message"', // no composer
      "data-composer",
      'id="sidebar"',
      "<select", // no model picker
      "Sign out",
      "/account",
      chatId, // not even the chat's id
    ]) {
      expect([absent, html.includes(absent)]).toEqual([absent, false]);
    }
    // Signed in, the owner sees the same page: it never looks at who is asking.
    const asOwner = await server.fetch(`/s/${token}`);
    expect((await asOwner.text()).replace(/\s+/g, " ")).toBe(html.replace(/\s+/g, " "));
  });

  test("shared pages send no referrer, ask not to be indexed or cached, and keep the app's security headers", async () => {
    const chatId = await startChat(server, "Headers please");
    const { token } = await share(server, chatId);
    for (const res of [await view(token), await view("A".repeat(32)), await view("short")]) {
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-robots-tag")).toBe("noindex");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(res.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    }
  });

  test("the snapshot stays as published when the chat goes on, is renamed, or a message is changed in place", async () => {
    const chatId = await startChat(server, "First question", "First answer.");
    const { token } = await share(server, chatId);
    const before = await (await view(token)).text();

    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    fake.queue({ text: "Second answer." });
    ws.send({ action: "send", chat: chatId, content: "Second question" });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect((await server.fetch(`/chats/${chatId}`).then((r) => r.text())).includes("Second answer.")).toBe(true);
    expect(
      (
        await server.fetch(`/chats/${chatId}/title`, {
          method: "POST",
          body: new URLSearchParams({ title: "Renamed later" }),
        })
      ).status,
    ).toBe(204);
    // What an edit or a regeneration does to a stored message: its text and HTML change in place.
    const [first] = await rowsOf(chatId);
    await t.database.db.update(messages).set({ content: "Edited question" }).where(eq(messages.id, first!.id));

    const after = await (await view(token)).text();
    expect(after).toBe(before);
    expect(after).toContain("First answer.");
    expect(after).not.toContain("Second");
    expect(after).not.toContain("Renamed later");
    expect(after).not.toContain("Edited question");
  });

  test("an answer still being written is shared with what was saved, marked incomplete", async () => {
    const chatId = await startChat(server, "Tell me slowly");
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    fake.queue({ text: "slowly written words ".repeat(200), tokenDelayMs: 20 });
    ws.send({ action: "send", chat: chatId, content: "Go on" });
    // Progress is saved about once a second: wait until some of the answer is stored.
    await waitFor(async () => {
      const rows = await rowsOf(chatId);
      return rows.some((m) => m.status === "streaming" && m.content.includes("slowly written words"));
    });
    const { token } = await share(server, chatId);
    const html = await (await view(token)).text();
    expect(html).toContain('data-status="streaming"');
    expect(html).toContain("slowly written words");
    expect(html).toContain("Incomplete: this answer was still being written when the chat was shared.");
    expect(html).not.toContain("Waiting for the answer");
    ws.send({ action: "stop", message: (await rowsOf(chatId)).at(-1)!.id });
    await waitFor(async () => (await rowsOf(chatId)).every((m) => m.status !== "streaming"));
    await ws.close();
  });

  test("a person sees the links they published, each chat's in its dialog and all of them on the account page", async () => {
    const chatId = await startChat(server, "Listed chat");
    const first = await share(server, chatId);
    const second = await share(server, chatId);
    // The dialog right after publishing lists every link, the new one first and only it with its URL.
    expect(SHARE_IDS(second.html)).toEqual([second.id, first.id]);
    expect(second.html).not.toContain(first.token);

    const dialog = await (await server.fetch(`/chats/${chatId}/shares`)).text();
    expect(SHARE_IDS(dialog)).toEqual([second.id, first.id]);
    expect(dialog).not.toContain("/s/"); // only a fingerprint of each token is kept
    expect(dialog).toContain("Stop sharing");

    const all = await listAll(server);
    expect(SHARE_IDS(all)).toEqual(expect.arrayContaining([first.id, second.id]));
    expect(all).toContain(`href="/chats/${chatId}"`);
    expect(all).toContain("About Listed chat");
    // Asked for by a browser rather than htmx, the list is the account page.
    const page = await server.fetch("/shares");
    expect([page.status, page.headers.get("location")]).toEqual([303, "/account"]);
    expect(await (await server.fetch("/account")).text()).toContain('hx-get="/shares"');
  });

  test("a revoked link answers 404 with exactly the page of a link that never existed", async () => {
    const chatId = await startChat(server, "Soon private again");
    const { token, id } = await share(server, chatId);
    expect((await view(token)).status).toBe(200);

    const res = await revoke(server, id);
    expect([res.status, await res.text()]).toEqual([200, ""]);
    const revoked = await view(token);
    const never = await view(token.replace(/^./, (c) => (c === "A" ? "B" : "A")));
    expect([revoked.status, never.status]).toEqual([404, 404]);
    const revokedBody = await revoked.text();
    expect(revokedBody).toBe(await never.text());
    expect(revokedBody).toContain("There is nothing here");
    expect(revokedBody).not.toContain("Soon private");
    expect(Object.keys(revoked.headers.toJSON()).sort()).toEqual(Object.keys(never.headers.toJSON()).sort());
    // Malformed tokens get the same page.
    for (const bad of ["x", `${token}x`, "%3Cscript%3E", "A".repeat(200)]) {
      const r = await view(bad);
      expect([bad, r.status, await r.text()]).toEqual([bad, 404, revokedBody]);
    }
    expect(SHARE_IDS(await listAll(server))).not.toContain(id);
    expect((await revoke(server, id)).status).toBe(404);
  });

  test("deleting the chat takes its links down", async () => {
    const chatId = await startChat(server, "Short-lived chat");
    const { token, id } = await share(server, chatId);
    const gone = await server.fetch(`/chats/${chatId}`, { method: "DELETE" });
    expect(gone.status).toBe(204);
    expect((await view(token)).status).toBe(404);
    expect(await t.database.db.select().from(shares).where(eq(shares.id, id))).toEqual([]);
    expect(SHARE_IDS(await listAll(server))).not.toContain(id);
  });

  test("another person cannot publish, list or revoke someone else's links: each answers like an unknown one", async () => {
    const chatId = await startChat(server, "Ann's own chat");
    const { token, id } = await share(server, chatId);
    const unknown = "01900000-0000-7000-8000-000000000000";
    const before = await countShares();

    const same = async (theirs: Response, none: Response) => {
      expect([theirs.status, none.status]).toEqual([404, 404]);
      expect((await theirs.text()).replaceAll(chatId, "ID").replaceAll(id, "ID")).toBe(
        (await none.text()).replaceAll(unknown, "ID"),
      );
    };
    await same(await publish(bob, chatId), await publish(bob, unknown));
    await same(await bob.fetch(`/chats/${chatId}/shares`), await bob.fetch(`/chats/${unknown}/shares`));
    await same(await revoke(bob, id), await revoke(bob, unknown));
    const bobs = await listAll(bob);
    expect(SHARE_IDS(bobs)).toEqual([]);
    expect(bobs).not.toContain("Ann's own chat");

    expect(await countShares()).toBe(before);
    expect((await view(token)).status).toBe(200);
    // Signed out, the owner routes turn nobody away.
    const nobody = await fetch(`${server.url}/chats/${chatId}/shares`, {
      method: "POST",
      headers: { Origin: server.url },
      redirect: "manual",
    });
    expect(nobody.status).toBe(401);
    expect(await countShares()).toBe(before);
  });

  test("links are long and random, and neither the database nor the log keeps them", async () => {
    const chatId = await startChat(server, "Random tokens");
    const a = await share(server, chatId);
    const b = await share(server, chatId);
    for (const { token } of [a, b]) expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/); // 24 bytes: 192 bits
    expect(a.token).not.toBe(b.token);
    const rows = await t.database.db.select().from(shares).where(eq(shares.chatId, chatId));
    expect(rows).toHaveLength(2);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(a.token);
    expect(stored).not.toContain(b.token);
    const hash = new Bun.CryptoHasher("sha256").update(a.token).digest("hex");
    expect(rows.map((r) => r.tokenHash)).toContain(hash);
    const from = logLines.length;
    expect((await view(a.token)).status).toBe(200);
    const logged = logLines.slice(from).join("\n");
    expect(logged).toContain('"path":"/s/…"');
    expect(logged).not.toContain(a.token);
  });

  test("HTML in messages and titles is shown as text on the shared page", async () => {
    const hostile = `<script>alert("x")</script><img src=x onerror="alert(1)">`;
    const chatId = await startChat(
      server,
      hostile,
      `Answer with <b onmouseover="alert(2)">markup</b> and [a](javascript:alert(3))`,
    );
    const renamed = await server.fetch(`/chats/${chatId}/title`, {
      method: "POST",
      body: new URLSearchParams({ title: `<img src=x onerror=alert(4)> title` }),
    });
    expect(renamed.status).toBe(204);
    const { token } = await share(server, chatId);
    const html = await (await view(token)).text();
    expect(html).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    expect(html).toContain("&lt;img src=x onerror=alert(4)&gt; title");
    expect(html).toContain("&lt;b onmouseover=");
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<img src=x");
    expect(html).not.toContain("<b onmouseover");
    expect(html).not.toContain('href="javascript:');
    // Every script on the page is one of our own hashed files.
    for (const [, src] of html.matchAll(/<script([^>]*)>/g))
      expect(src).toMatch(/ src="\/assets\/[a-z-]+\.[0-9a-f]+\.js"/);
  });
});
