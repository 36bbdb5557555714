import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messages } from "../../src/db/schema.ts";
import {
  FAKE_CALLER,
  FAKE_MODELS,
  type FakeUpstream,
  fakeEnv,
  type RecordedRequest,
  startFakeUpstream,
} from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

/*
 * Search the web: the composer's switch (sent with each message, remembered by the chat) asks
 * OpenRouter for its web search, as its server tool for a model that calls tools and as its web
 * plugin for any other; the url citations it returns are kept with the answer, numbered where
 * the answer cites them and listed under it, as text and http(s) links only.
 */

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, FAKE_CALLER] });
});
afterAll(() => fake.stop());

/** The Sources list of the (one) answer in `html` that has one. */
const sourcesList = (html: string) => {
  const from = html.indexOf('aria-label="Sources"');
  expect(from).toBeGreaterThan(0);
  return html.slice(from, html.indexOf("</section>", from));
};

eachDriver("searching the web", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, { ...fakeEnv(fake), WEB_SEARCH_ENGINE: "exa", WEB_SEARCH_RESULTS: "3" });
  });
  afterAll(() => server.stop());

  const newChat = async (model = "fake/fast") => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Web", model })
      .returning();
    return chat!;
  };
  const chatRow = async (id: string) => (await t.database.db.select().from(chats).where(eq(chats.id, id)))[0]!;
  const messageRow = async (id: string) => (await t.database.db.select().from(messages).where(eq(messages.id, id)))[0]!;

  /** Sends over the chat's socket (with the switch as the composer sends it, if given) and waits for the end. */
  async function send(chatId: string, content: string, webSearch?: string | string[]) {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    const before = fake.requests.length;
    ws.send({ action: "send", chat: chatId, content, ...(webSearch === undefined ? {} : { webSearch }) });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    const done = await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect(done).toContain('data-status="complete"');
    const request = fake.requests.slice(before).find((r) => r.body.stream) as RecordedRequest;
    return { answerId, request, done };
  }

  test("the switch asks for OpenRouter's web plugin (any model) or its web search tool (a model that calls tools), with the engine and result count set", async () => {
    const chat = await newChat();
    const plugin = await send(chat.id, "Weather in Lyon?", ["off", "on"]);
    expect(plugin.request.body.plugins).toEqual([{ id: "web", engine: "exa", max_results: 3 }]);
    expect(plugin.request.body.tools).toBeUndefined();

    const caller = await newChat("fake/caller");
    const tool = await send(caller.id, "Weather in Lyon?", ["off", "on"]);
    expect(tool.request.body.tools).toEqual([
      { type: "openrouter:web_search", parameters: { engine: "exa", max_results: 3 } },
    ]);
    expect(tool.request.body.plugins).toBeUndefined();
  });

  test("the chat remembers the switch: a message without it searches as the last did, until one is sent with it off", async () => {
    const chat = await newChat();
    expect((await chatRow(chat.id)).webSearch).toBe(false);
    await send(chat.id, "First", ["off", "on"]);
    expect((await chatRow(chat.id)).webSearch).toBe(true);
    const again = await send(chat.id, "Second");
    expect(again.request.body.plugins).toEqual([{ id: "web", engine: "exa", max_results: 3 }]);
    const off = await send(chat.id, "Third", "off");
    expect(off.request.body.plugins).toBeUndefined();
    expect((await chatRow(chat.id)).webSearch).toBe(false);
  });

  test("a new chat started with the switch on searches from its first answer", async () => {
    const before = fake.requests.length;
    const res = await server.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams([
        ["content", "News about Mars?"],
        ["model", "fake/fast"],
        ["webSearch", "off"],
        ["webSearch", "on"],
      ]),
      redirect: "manual",
    });
    expect(res.status).toBe(303);
    const chatId = res.headers.get("location")!.split("/").pop()!;
    expect((await chatRow(chatId)).webSearch).toBe(true);
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('data-status="complete"'));
    await ws.close();
    const request = fake.requests.slice(before).find((r) => r.body.stream)!;
    expect(request.body.plugins).toEqual([{ id: "web", engine: "exa", max_results: 3 }]);
  });

  test("the sources are kept with the answer, cited by number where the answer links them or says [n], and listed under it; the search is in the cost", async () => {
    const chat = await newChat();
    fake.queue({
      text: "Lyon is mild today ([meteo.fr](https://meteo.fr/lyon)). Rain later [2]. See `[2]` and [9].",
      citations: [
        { url: "https://meteo.fr/lyon", title: "Météo Lyon", content: "Mild,\n 14 °C" },
        { url: "https://www.example.org/rain", title: "Rain radar" },
        { url: "https://meteo.fr/lyon", title: "The same page again" },
      ],
    });
    const { answerId, done } = await send(chat.id, "Weather in Lyon?", ["off", "on"]);
    const row = await messageRow(answerId);
    expect(row.sources).toEqual([
      { url: "https://meteo.fr/lyon", title: "Météo Lyon", snippet: "Mild, 14 °C" },
      { url: "https://www.example.org/rain", title: "Rain radar" },
    ]);
    // OpenRouter's $0.004 per result, three results, in the answer's cost.
    expect(row.cost).toBeCloseTo(0.000123 + 3 * 0.004, 9);
    const cite = (n: number) =>
      `<sup class="citation"><a href="#src-${answerId}-${n}" aria-label="Source ${n}">${n}</a></sup>`;
    expect(row.html).toContain(`meteo.fr</a>${cite(1)}`);
    expect(row.html).toContain(`Rain later ${cite(2)}.`);
    // Code is not a citation, nor a number past the list.
    expect(row.html).toContain("<code>[2]</code>");
    expect(row.html).toContain("and [9].");
    for (const html of [done, await (await server.fetch(`/chats/${chat.id}`)).text()]) {
      const list = sourcesList(html);
      expect(list).toContain(`id="src-${answerId}-1"`);
      expect(list).toContain('href="https://meteo.fr/lyon" target="_blank" rel="noopener noreferrer"');
      expect(list).toContain(">Météo Lyon</a>");
      expect(list).toContain(">example.org</span>");
      expect(list).toContain(`id="src-${answerId}-2"`);
      expect(list).not.toContain(`id="src-${answerId}-3"`);
    }
  });

  test("a hostile source stays text, and only http(s) links are kept", async () => {
    const chat = await newChat();
    fake.queue({
      text: "Found things.",
      citations: [
        { url: "https://evil.example/x", title: '<img src=x onerror="alert(1)">Click</a><script>alert(2)</script>' },
        { url: "javascript:alert(3)", title: "Script link" },
        { url: "data:text/html,<script>alert(4)</script>", title: "Data link" },
        { url: 'https://ok.example/"><script>alert(5)</script>', title: "Quote in the URL" },
        { url: 42, title: "Not a URL" },
        "not an annotation",
      ],
    });
    const { answerId, done } = await send(chat.id, "Find things", "on");
    const row = await messageRow(answerId);
    expect(row.sources!.map((s) => s.url)).toEqual([
      "https://evil.example/x",
      "https://ok.example/%22%3E%3Cscript%3Ealert(5)%3C/script%3E",
    ]);
    for (const html of [done, await (await server.fetch(`/chats/${chat.id}`)).text()]) {
      const list = sourcesList(html);
      expect(list).not.toContain("<img");
      expect(list).not.toContain("<script>");
      expect(list).not.toContain("javascript:");
      expect(list).not.toContain("data:text/html");
      expect(list).toContain("&lt;img src=x onerror=");
    }
  });

  test("without the switch nothing asks for a search, and an answer without sources lists none", async () => {
    const chat = await newChat();
    const { answerId, request, done } = await send(chat.id, "Hello");
    expect(request.body.plugins).toBeUndefined();
    expect(request.body.tools).toBeUndefined();
    expect((await messageRow(answerId)).sources).toBeNull();
    expect(done).not.toContain('aria-label="Sources"');
  });
});
