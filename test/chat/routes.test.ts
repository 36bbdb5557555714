import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const articleIds = (html: string) => [...html.matchAll(/<article id="msg-([0-9a-f-]+)"/g)].map((m) => m[1]!);

eachDriver("chat pages and actions over HTTP", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake, { DEFAULT_MODEL: "fake/smart" }));
  });
  afterAll(() => server.stop());
  const post = (
    path: string,
    form: Record<string, string>,
    headers: Record<string, string> = { Origin: server.origin },
  ) => server.fetch(path, { method: "POST", body: new URLSearchParams(form), headers, redirect: "manual" });
  // Bounded by the test's own timeout, not by a count of polls: 300 polls (15 s and their
  // queries) was a hidden time limit that two 13-second streams outran on a loaded machine.
  const waitFor = async (check: () => Promise<boolean>) => {
    while (!(await check())) await Bun.sleep(50);
  };
  const rowsOf = (chatId: string) =>
    t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(messages.id);

  test("an unknown or malformed chat id answers 404 with a page that says so", async () => {
    for (const id of [crypto.randomUUID(), "not-a-uuid", "1%27%20or%201=1"]) {
      const res = await server.fetch(`/chats/${id}`);
      expect(res.status).toBe(404);
      expect(await res.text()).toContain("There is no such chat.");
    }
    expect((await server.fetch(`/chats/${crypto.randomUUID()}/messages?before=${crypto.randomUUID()}`)).status).toBe(
      404,
    );
  });

  test("a long chat opens at its newest 50 messages and pages back through the rest in order", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Long", model: "fake/fast" })
      .returning();
    const rows = Array.from({ length: 120 }, (_, i) => ({
      id: Bun.randomUUIDv7(),
      chatId: chat!.id,
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      content: `message number ${i}`,
      html: i % 2 ? renderMarkdown(`message number ${i}`) : null,
    }));
    await t.database.db.insert(messages).values(rows);
    const all = rows.map((r) => r.id);
    const first = await (await server.fetch(`/chats/${chat!.id}`)).text();
    expect(articleIds(first)).toEqual(all.slice(70));
    expect(first).toContain(`/chats/${chat!.id}/messages?before=${all[70]}`);
    expect(first).toContain(`ws-connect="/ws?chat=${chat!.id}&since=${all[70]}"`);
    const second = await (await server.fetch(`/chats/${chat!.id}/messages?before=${all[70]}`)).text();
    expect(articleIds(second)).toEqual(all.slice(20, 70));
    expect(second).toContain(`before=${all[20]}`);
    const third = await (await server.fetch(`/chats/${chat!.id}/messages?before=${all[20]}`)).text();
    expect(articleIds(third)).toEqual(all.slice(0, 20));
    expect(third).not.toContain("before=");
  });

  test("the new-chat form starts a chat: saved first, titled from the first words, then answered", async () => {
    // The answer waits, so the model's title (asked for once it completes) cannot land first.
    fake.queue({ firstTokenDelayMs: 500 });
    const res = await post("/chats", { content: "What is the capital of France, and why?", model: "fake/fast" });
    expect(res.status).toBe(303);
    const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")?.[1];
    expect(id).toBeDefined();
    const [chat] = await t.database.db.select().from(chats).where(eq(chats.id, id!));
    expect(chat).toMatchObject({ title: "What is the capital of France, and why?", model: "fake/fast" });
    await waitFor(async () => (await rowsOf(id!))[1]?.status === "complete");
    const [user, answer] = await rowsOf(id!);
    expect(user!.content).toBe("What is the capital of France, and why?");
    expect(answer!.model).toBe("fake/fast");
    const page = await (await server.fetch(`/chats/${id}`)).text();
    expect(page).toContain('data-status="complete"');
  });

  test("the new-chat form refuses an empty message and a cross-site post", async () => {
    const empty = await post("/chats", { content: "   " });
    expect(empty.status).toBe(400);
    expect(await empty.text()).toContain("Write a message first.");
    // The address that refusal leaves in the bar, opened again: the new-chat page.
    const again = await server.fetch("/chats", { redirect: "manual" });
    expect([again.status, again.headers.get("location")]).toEqual([303, "/"]);
    const before = (await t.database.db.select().from(chats)).length;
    expect((await post("/chats", { content: "hi" }, { Origin: "https://evil.example" })).status).toBe(403);
    expect((await post("/chats", { content: "hi" }, { Origin: "" })).status).toBe(403);
    // A browser that says the request is cross-site is believed, whatever the Origin claims.
    expect(
      (await post("/chats", { content: "hi" }, { Origin: server.origin, "Sec-Fetch-Site": "cross-site" })).status,
    ).toBe(403);
    expect((await t.database.db.select().from(chats)).length).toBe(before);
  });

  test("rename and model change are saved; bad input and unknown chats are refused", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Old", model: "fake/fast" })
      .returning();
    expect((await post(`/chats/${chat!.id}/title`, { title: '  New   <name> "x" onclick="y"  ' })).status).toBe(204);
    expect((await post(`/chats/${chat!.id}/model`, { model: "fake/smart" })).status).toBe(204);
    const [row] = await t.database.db.select().from(chats).where(eq(chats.id, chat!.id));
    expect(row).toMatchObject({ title: 'New <name> "x" onclick="y"', model: "fake/smart" });
    expect((await post(`/chats/${chat!.id}/title`, { title: " " })).status).toBe(400);
    expect((await post(`/chats/${crypto.randomUUID()}/title`, { title: "x" })).status).toBe(404);
    expect((await post(`/chats/${chat!.id}/title`, { title: "x" }, { Origin: "" })).status).toBe(403);
    const page = await (await server.fetch(`/chats/${chat!.id}`)).text();
    expect(page).toMatch(/<h1 id="chat-title"[^>]*>New &lt;name&gt; &quot;x&quot; onclick=&quot;y&quot;<\/h1>/);
    expect(page).toContain('value="New <name> &#34;x&#34; onclick=&#34;y&#34;"');
    expect(page).not.toContain('onclick="y"');
  });

  test("the model picker lists the upstream's models; a new chat starts with DEFAULT_MODEL, then with the person's last choice", async () => {
    const newcomer = await server.signUp("newcomer");
    const home = await (await newcomer.fetch("/")).text();
    // Each option says what the searchable picker shows: context, prices per M tokens, reasoning.
    expect(home).toContain(
      '<option value="fake/smart" selected data-name="Fake Smart" data-context="200000" data-prompt-price="3" data-completion-price="15" data-reasons="">Fake Smart · 200K context · $3/$15 per M tokens</option>',
    );
    expect(home).toContain(
      '<option value="fake/fast" data-name="Fake Fast" data-context="32768" data-prompt-price="0.1" data-completion-price="0.2">Fake Fast · 33K context · $0.10/$0.20 per M tokens</option>',
    );
    // No chats yet, nothing starred: one plain list.
    expect(home).not.toContain("<optgroup");
    const started = await newcomer.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "hello", model: "fake/fast" }),
    });
    expect(started.status).toBe(303);
    const next = await (await newcomer.fetch("/")).text();
    // The model used lately comes first, chosen; the rest follow.
    expect(next).toContain('<optgroup label="Recently used"><option value="fake/fast" selected ');
    expect(next).toContain('<optgroup label="All models"><option value="fake/smart" data-name');
  });

  test("deleting a chat mid-answer closes the upstream connection and removes its messages", async () => {
    fake.queue({ text: "go on ".repeat(500), tokenDelayMs: 20 });
    const res = await post("/chats", { content: "delete me while you talk" });
    const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")![1]!;
    // Found by its words: a title request for another chat may come after it.
    const asked = () => fake.requests.find((r) => r.body.messages.at(-1)?.content === "delete me while you talk");
    await waitFor(async () => asked() !== undefined);
    const request = asked()!;
    const deleted = await server.fetch(`/chats/${id}`, { method: "DELETE", headers: { Origin: server.origin } });
    expect(deleted.status).toBe(204);
    expect(deleted.headers.get("hx-redirect")).toBe("/");
    await request.disconnected;
    expect(await rowsOf(id)).toEqual([]);
    expect((await server.fetch(`/chats/${id}`, { method: "DELETE", headers: { Origin: server.origin } })).status).toBe(
      404,
    );
  });

  test("deleting a person mid-answer closes the upstream connection of each of their answers, and their tabs; others' answers go on", async () => {
    const zoe = await server.signUp("zoe");
    // Answers that send a few words, then nothing, holding their connections open: only a stop ends them.
    fake.queue(...Array.from({ length: 3 }, () => ({ text: "go on ".repeat(100), stallAfterTokens: 3 })));
    // Only this run's requests: the other driver's suite asked the same questions on the same fake.
    const from = fake.requests.length;
    const asked = (content: string) =>
      fake.requests.slice(from).findLast((r) => r.body.messages.at(-1)?.content === content);
    const start = async (person: { fetch: typeof zoe.fetch }, content: string) => {
      const res = await person.fetch("/chats", { method: "POST", body: new URLSearchParams({ content }) });
      const chatId = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")![1]!;
      await waitFor(async () => (asked(content)?.sent ?? "") !== "");
      return { request: asked(content)!, chatId };
    };
    const theirs = [await start(zoe, "zoe's first question"), await start(zoe, "zoe's second question")];
    const mine = await start(server, "the admin's question");
    const tab = await zoe.socket("/ws");
    const closed = new Promise<number>((resolve) => tab.socket.addEventListener("close", (e) => resolve(e.code)));

    const del = await post(`/admin/users/${zoe.user.id}/delete`, {});
    expect(del.headers.get("location")).toBe("/admin?done=user-deleted");
    await Promise.all(theirs.map(({ request }) => request.disconnected));
    expect(await closed).toBe(4001);
    for (const { chatId } of theirs) expect(await rowsOf(chatId)).toEqual([]);
    expect(mine.request.wasDisconnected).toBe(false);
    const [, answer] = await rowsOf(mine.chatId);
    expect(answer!.status).toBe("streaming");
    await server.app.decorator.chat.stop(server.user.id, answer!.id);
    await mine.request.disconnected;
  });

  test("text is saved while it streams, so a crash loses at most about a second (every answer at once)", async () => {
    // Characters beyond one UTF-16 unit: each save adds after the characters already saved, as Postgres counts them.
    // ~6 s of streaming each: several saves while both stream (one a second), the second's text
    // saved beside its reasoning.
    const first = "still going 🌍 ".repeat(100);
    const thinking = "thinking 🤔 ".repeat(60);
    const second = "also going ".repeat(100);
    fake.queue({ text: first, tokenDelayMs: 15 });
    fake.queue({ reasoning: thinking, text: second, tokenDelayMs: 15 });
    const ids: string[] = [];
    for (const content of ["write slowly", "write slowly too"]) {
      const res = await post("/chats", { content });
      ids.push(/\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")![1]!);
    }
    // Both answers are saved mid-stream by the one batched statement, each with its own text,
    // and what is saved is always exactly the start of the answer, however many saves it took.
    const seen = new Set<number>();
    await waitFor(async () => {
      const [a, b] = await Promise.all(ids.map(async (id) => (await rowsOf(id))[1]!));
      expect(first).toStartWith(a!.content);
      expect(second).toStartWith(b!.content);
      expect(thinking).toStartWith(b!.reasoning ?? "");
      if (a!.status === "streaming" && a!.content) seen.add(a!.content.length);
      return seen.size >= 3 && b!.status === "streaming" && b!.content.length > 0;
    });
    // The end adds only what the saves had not written: the stored answers are whole, nothing twice.
    await waitFor(async () =>
      (await Promise.all(ids.map(async (id) => (await rowsOf(id))[1]!.status))).every((s) => s === "complete"),
    );
    const [a, b] = await Promise.all(ids.map(async (id) => (await rowsOf(id))[1]!));
    expect(a!.content).toBe(first);
    expect(b!.content).toBe(second);
    expect(b!.reasoning).toBe(thinking);
    expect(a!.reasoning).toBeNull();
    for (const id of ids) await server.fetch(`/chats/${id}`, { method: "DELETE", headers: { Origin: server.origin } });
  });

  test("shutting down saves answers in flight as interrupted, with their text, and closes upstream", async () => {
    fake.queue({ text: "never ending ".repeat(500), tokenDelayMs: 15 });
    const res = await post("/chats", { content: "interrupt me" });
    const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")![1]!;
    await waitFor(async () => fake.requests.at(-1)?.body.messages.at(-1)?.content === "interrupt me");
    const request = fake.requests.at(-1)!;
    await Bun.sleep(200);
    await server.app.decorator.chat.shutdown();
    await request.disconnected;
    const [, answer] = await rowsOf(id);
    expect(answer!.status).toBe("interrupted");
    expect(answer!.content).toStartWith("never ending");
    expect(answer!.html).toContain("never ending");
  });

  test("answers left streaming by a dead process become interrupted at start, text kept; on Postgres, not those another process vouches for", async () => {
    const chatWith = async (title: string, leaseUntil: Date) => {
      const [chat] = await t.database.db
        .insert(chats)
        .values({ userId: server.user.id, title, model: "fake/fast" })
        .returning();
      await t.database.db.insert(messages).values([
        { chatId: chat!.id, role: "user", content: "hello" },
        { chatId: chat!.id, role: "assistant", content: "half an **answ", status: "streaming", leaseUntil },
      ]);
      return chat!;
    };
    const crashed = await chatWith("Crashed", new Date(Date.now() - 1000));
    const elsewhere = await chatWith("Written elsewhere", new Date(Date.now() + 60_000));
    expect(await server.app.decorator.chat.recoverInterrupted()).toBeGreaterThanOrEqual(1);
    const [, answer] = await rowsOf(crashed.id);
    expect(answer).toMatchObject({ status: "interrupted", content: "half an **answ" });
    const page = await (await server.fetch(`/chats/${crashed.id}`)).text();
    expect(page).toContain('data-status="interrupted"');
    expect(page).toContain("Retry");
    // The embedded database has one process: nothing it left can still be written.
    const [, other] = await rowsOf(elsewhere.id);
    expect(other!.status).toBe(t.driver === "pglite" ? "interrupted" : "streaming");
  });
});

eachDriver("an upstream that is down", (t) => {
  test("pages still render at once, offering DEFAULT_MODEL alone", async () => {
    const server = await startTestServer(t, {
      OPENROUTER_BASE_URL: "http://127.0.0.1:1/v1",
      OPENROUTER_API_KEY: "k",
      DEFAULT_MODEL: "some/model",
    });
    try {
      for (let i = 0; i < 3; i++) {
        const home = await (await server.fetch("/")).text();
        expect([...home.matchAll(/<option /g)]).toHaveLength(1);
        expect(home).toContain('<option value="some/model" selected data-name="some/model">some/model</option>');
      }
    } finally {
      await server.stop();
    }
  });
});
