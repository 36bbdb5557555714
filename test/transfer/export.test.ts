import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Chat, type Message, messages as messagesTable } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { seedChat } from "./support.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const ANSWER = [
  "Here is the plan:",
  "",
  "1. Read the [docs](https://example.com).",
  "2. Write `code`.",
  "",
  "```python",
  'print("<b>hi</b>")',
  "```",
].join("\n");

eachDriver("exporting chats", (t) => {
  let server: TestServer;
  let bob: Person;
  let plan: { chat: Chat; messages: Message[] };
  let other: { chat: Chat; messages: Message[] };
  let bobs: { chat: Chat; messages: Message[] };

  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob");
    plan = await seedChat(
      t,
      server.user.id,
      { title: 'Plans: "Q3" / café ☕', model: "fake/smart", systemPrompt: "Answer in lists.", temperature: 0.3 },
      [
        { role: "user", content: "Make me a plan\nwith <two> lines" },
        {
          role: "assistant",
          content: ANSWER,
          html: "<p>rendered</p>",
          reasoning: "Think first.",
          model: "fake/smart",
          promptTokens: 12,
          completionTokens: 34,
          reasoningTokens: 5,
          cachedTokens: 2,
          cost: 0.00123,
          finishReason: "stop",
          finishedAt: new Date("2026-01-02T10:01:30Z"),
        },
        { role: "user", content: "And then?" },
        {
          role: "assistant",
          content: "It failed half",
          status: "error",
          error: "The model is overloaded.",
          model: "fake/smart",
        },
        { role: "user", content: "Try again" },
        // Being written as the chat is exported: what is saved so far, and its status. Its writer
        // vouches for it for an hour, so the server's lease check does not end it mid-suite.
        {
          role: "assistant",
          content: "```js\nconst half",
          status: "streaming",
          model: "fake/smart",
          leaseUntil: new Date(Date.now() + 3_600_000),
        },
      ],
    );
    other = await seedChat(t, server.user.id, { title: "Second" }, [
      { role: "user", content: "Hello" },
      { role: "assistant", content: "Hi!", model: "fake/fast" },
    ]);
    bobs = await seedChat(t, bob.user.id, { title: "Bob's secret" }, [{ role: "user", content: "bob only" }]);
  });
  afterAll(() => server.stop());

  test("one chat as Markdown: the title, each message under who wrote it (the model for answers), its text as written", async () => {
    const res = await server.fetch(`/chats/${plan.chat.id}/export.md`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/markdown; charset=utf-8");
    expect(res.headers.get("content-disposition")).toBe(
      `attachment; filename="Plans-Q3-cafe.md"; filename*=UTF-8''Plans%20Q3%20caf%C3%A9%20%E2%98%95.md`,
    );
    expect(res.headers.get("cache-control")).toBe("no-store");
    const text = await res.text();
    expect(text).toBe(
      `${[
        '# Plans: "Q3" / café ☕',
        "*fake/smart · 2026-01-02*",
        "## You",
        "Make me a plan\nwith <two> lines",
        "## Assistant (fake/smart)",
        ANSWER,
        "## You",
        "And then?",
        "## Assistant (fake/smart)",
        "It failed half",
        "*Error: The model is overloaded.*",
        "## You",
        "Try again",
        "## Assistant (fake/smart)",
        // The code fence the unfinished answer left open is closed, so nothing after it reads as code.
        "```js\nconst half\n```",
        "*Still being written when exported.*",
      ].join("\n\n")}\n`,
    );
  });

  test("one chat as JSON: Parley's format with the chat and every field of its messages, nothing rendered, no ids", async () => {
    const asked = Date.now();
    const res = await server.fetch(`/chats/${plan.chat.id}/export.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    expect(res.headers.get("content-disposition")).toStartWith('attachment; filename="Plans-Q3-cafe.json"');
    const text = await res.text();
    expect(text).not.toContain(plan.chat.id);
    expect(text).not.toContain("rendered");
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ format: "parley-chats", version: 2 });
    // Made while this request was answered, however long that took.
    expect(Date.parse(doc.exportedAt)).toBeGreaterThanOrEqual(asked);
    expect(Date.parse(doc.exportedAt)).toBeLessThanOrEqual(Date.now());
    expect(doc.chats).toHaveLength(1);
    const [chat] = doc.chats;
    expect(chat).toEqual({
      title: 'Plans: "Q3" / café ☕',
      model: "fake/smart",
      systemPrompt: "Answer in lists.",
      temperature: 0.3,
      maxTokens: null,
      reasoningEffort: null,
      pdfEngine: null,
      createdAt: "2026-01-02T10:00:00.000Z",
      updatedAt: "2026-01-02T10:05:00.000Z",
      pinnedAt: null,
      archivedAt: null,
      messages: expect.any(Array),
    });
    expect(chat.messages).toHaveLength(6);
    expect(chat.messages[1]).toEqual({
      role: "assistant",
      content: ANSWER,
      reasoning: "Think first.",
      status: "complete",
      model: "fake/smart",
      error: null,
      finishReason: "stop",
      promptTokens: 12,
      completionTokens: 34,
      reasoningTokens: 5,
      cachedTokens: 2,
      cost: 0.00123,
      createdAt: "2026-01-02T10:01:00.000Z",
      finishedAt: "2026-01-02T10:01:30.000Z",
    });
    expect(chat.messages[0]).toMatchObject({ role: "user", content: "Make me a plan\nwith <two> lines", model: null });
    expect(chat.messages[3]).toMatchObject({ status: "error", error: "The model is overloaded." });
    expect(chat.messages[5]).toMatchObject({ status: "streaming", content: "```js\nconst half", finishedAt: null });
  });

  test("all chats as one JSON file: every chat of the person's, oldest first, and none of anyone else's", async () => {
    const res = await server.fetch("/account/export.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const day = new Date().toISOString().slice(0, 10);
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="parley-chats-${day}.json"`);
    const text = await res.text();
    expect(text).not.toContain("bob only");
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ format: "parley-chats", version: 2 });
    expect(doc.chats.map((c: { title: string }) => c.title)).toEqual(['Plans: "Q3" / café ☕', "Second"]);
    expect(doc.chats[1].messages.map((m: { content: string }) => m.content)).toEqual(["Hello", "Hi!"]);
    // The one-chat file holds the same chat, the same way.
    const one = await (await server.fetch(`/chats/${plan.chat.id}/export.json`)).json();
    expect(one.chats[0]).toEqual(doc.chats[0]);

    // Bob's file holds Bob's chat alone; a person without chats gets an empty list.
    const bobsDoc = await (await bob.fetch("/account/export.json")).json();
    expect(bobsDoc.chats.map((c: { title: string }) => c.title)).toEqual(["Bob's secret"]);
    const carol = await server.signUp("carol");
    expect((await (await carol.fetch("/account/export.json")).json()).chats).toEqual([]);
  });

  test("an answer's own headings sit below the heading that names who wrote it; # in code and prose stays", async () => {
    const answer = [
      "# Summary",
      "Text with a # in it.",
      "## Detail",
      "> # Quoted",
      "```md\n# a comment in code\n```",
      "Underlined\n===",
      "##### Five",
    ].join("\n\n");
    const { chat } = await seedChat(t, server.user.id, { title: "Headings" }, [
      { role: "user", content: "# My own title" },
      { role: "assistant", content: answer, model: "fake/fast" },
    ]);
    const text = await (await server.fetch(`/chats/${chat.id}/export.md`)).text();
    expect(text).toBe(
      `${[
        "# Headings",
        "*fake/fast · 2026-01-02*",
        "## You",
        "### My own title",
        "## Assistant (fake/fast)",
        "### Summary",
        "Text with a # in it.",
        "#### Detail",
        "> ### Quoted",
        "```md\n# a comment in code\n```",
        "### Underlined",
        "###### Five",
      ].join("\n\n")}\n`,
    );
  });

  test("more chats than a page of the export's reads: all of them, in order", async () => {
    const dave = await server.signUp("dave");
    for (let i = 0; i < 230; i++) await seedChat(t, dave.user.id, { title: `Chat ${i}` }, [{ content: `hello ${i}` }]);
    const doc = await (await dave.fetch("/account/export.json")).json();
    expect(doc.chats.map((c: { title: string }) => c.title)).toEqual(
      Array.from({ length: 230 }, (_, i) => `Chat ${i}`),
    );
    expect(doc.chats[229].messages[0].content).toBe("hello 229");
  });

  test("a chat with branches exports the branch it shows: what the person reads", async () => {
    const { chat, messages } = await seedChat(t, server.user.id, { title: "Branches" }, [
      { role: "user", content: "First question" },
      { role: "assistant", content: "First answer" },
      { role: "user", content: "Question as first written", active: false },
      { role: "assistant", content: "Answer to that", active: false },
    ]);
    // The question edited: a sibling of the first wording, shown instead of it.
    const [edit, answer] = [Bun.randomUUIDv7(), Bun.randomUUIDv7()];
    await t.database.db.insert(messagesTable).values([
      { id: edit, chatId: chat.id, parentId: messages[1]!.id, role: "user", content: "Question as edited" },
      { id: answer, chatId: chat.id, parentId: edit, role: "assistant", content: "Answer to the edit" },
    ]);
    const doc = await (await server.fetch(`/chats/${chat.id}/export.json`)).json();
    expect(doc.chats[0].messages.map((m: { content: string }) => m.content)).toEqual([
      "First question",
      "First answer",
      "Question as edited",
      "Answer to the edit",
    ]);
    const markdown = await (await server.fetch(`/chats/${chat.id}/export.md`)).text();
    expect(markdown).toContain("Question as edited");
    expect(markdown).not.toContain("first written");
    await server.fetch(`/chats/${chat.id}`, { method: "DELETE" });
  });

  test("another person's chat cannot be exported: it answers exactly as a chat that does not exist", async () => {
    for (const format of ["md", "json"]) {
      const theirs = await server.fetch(`/chats/${bobs.chat.id}/export.${format}`);
      const none = await server.fetch(`/chats/${crypto.randomUUID()}/export.${format}`);
      const malformed = await server.fetch(`/chats/not-a-chat/export.${format}`);
      expect([theirs.status, none.status, malformed.status]).toEqual([404, 404, 404]);
      const body = await theirs.text();
      expect(body).toBe(await none.text());
      expect(body).not.toContain("bob only");
      expect(theirs.headers.get("content-disposition")).toBeNull();
    }
    expect((await bob.fetch(`/chats/${other.chat.id}/export.md`)).status).toBe(404);
  });

  test("signed out, nothing is exported: downloads send to sign-in", async () => {
    for (const path of [
      `/chats/${plan.chat.id}/export.md`,
      `/chats/${plan.chat.id}/export.json`,
      "/account/export.json",
    ]) {
      const res = await fetch(server.url + path, { redirect: "manual" });
      const signIn = `/signin?next=${encodeURIComponent(path)}`;
      expect([path, res.status, res.headers.get("location")]).toEqual([path, 303, signIn]);
    }
  });

  test("the chat page offers the chat as Markdown and JSON; the account page offers all chats and the import form", async () => {
    const page = await (await server.fetch(`/chats/${plan.chat.id}`)).text();
    expect(page).toContain(`href="/chats/${plan.chat.id}/export.md"`);
    expect(page).toContain(`href="/chats/${plan.chat.id}/export.json"`);
    const account = await (await server.fetch("/account")).text();
    expect(account).toContain('href="/account/export.json"');
    expect(account).toContain('action="/account/import"');
    expect(account).toContain('enctype="multipart/form-data"');
  });
});
