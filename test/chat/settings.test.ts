import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

eachDriver("a chat's system prompt and parameters", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const newChat = async (model = "fake/fast") => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Settings", model })
      .returning();
    return chat!;
  };
  const stored = async (id: string) => (await t.database.db.select().from(chats).where(eq(chats.id, id)))[0]!;
  const save = (id: string, form: Record<string, string>) =>
    server.fetch(`/chats/${id}/settings`, {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: new URLSearchParams(form),
    });
  const streamed = () => fake.requests.filter((r) => r.body.stream);

  /** Sends a message over the chat's socket, as a tab does, and waits for its answer to end; returns the request upstream got. */
  async function send(chatId: string, content: string) {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    return streamed().findLast((r) => r.body.messages.at(-1)?.content === content)!.body;
  }

  test("every tab on the chat sees the new settings in its header at once", async () => {
    const chat = await newChat();
    const other = await server.socket(`/ws?chat=${chat.id}`);
    await other.waitFor((m) => m.includes('id="transcript-live"'));
    const from = other.messages.length;
    expect((await save(chat.id, { system_prompt: "Speak <only> in haiku.", temperature: "0.4" })).status).toBe(200);
    const pushed = await other.waitFor((m) => m.includes('id="chat-settings-summary"'), { from });
    expect(pushed).toContain("Speak &lt;only&gt; in haiku.");
    expect(pushed).toContain("0.4");
    await other.close();
  });

  test("saved from the settings form, they show in the chat's header, not as a message", async () => {
    const chat = await newChat();
    const form = await (await server.fetch(`/chats/${chat.id}/settings`)).text();
    expect(form).toContain('name="system_prompt"');
    expect(form).toContain('name="temperature"');
    expect(form).toContain('name="max_tokens"');
    // Fake Fast lists no "reasoning" among its parameters: no field for it, and the form says so.
    expect(form).not.toContain('name="reasoning_effort"');
    expect(form).toContain("Fake Fast takes no reasoning effort.");

    const res = await save(chat.id, {
      system_prompt: "Answer like a <b>pirate</b>.\r\nBe brief.",
      temperature: "0.7",
      max_tokens: "1,000",
    });
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body).toContain("Saved: the next answer uses these settings.");
    expect(body).toContain('id="chat-settings-summary" hx-swap-oob="true"');
    expect(body).toContain("System prompt · temperature 0.7 · at most 1,000 tokens");
    expect(await stored(chat.id)).toMatchObject({
      systemPrompt: "Answer like a <b>pirate</b>.\nBe brief.",
      temperature: 0.7,
      maxTokens: 1000,
      reasoningEffort: null,
    });

    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(page).toContain("System prompt · temperature 0.7 · at most 1,000 tokens");
    expect(page).toContain("Answer like a &lt;b&gt;pirate&lt;/b&gt;. Be brief.");
    expect(page).not.toContain("<b>pirate</b>");
    expect(page).not.toContain('data-role="system"');

    // Emptied, a setting is the model's default again; the summary goes.
    const cleared = await save(chat.id, { system_prompt: "", temperature: "", max_tokens: "" });
    expect(cleared.status).toBe(200);
    expect(await cleared.text()).toContain('<div id="chat-settings-summary" hx-swap-oob="true"></div>');
    expect(await stored(chat.id)).toMatchObject({ systemPrompt: null, temperature: null, maxTokens: null });
  });

  test("a bad value is refused with a sentence saying why, and nothing of the form is saved", async () => {
    const chat = await newChat();
    expect((await save(chat.id, { system_prompt: "Kept", temperature: "1.5", max_tokens: "200" })).status).toBe(200);
    const before = await stored(chat.id);
    const cases: [Record<string, string>, string][] = [
      [{ temperature: "3" }, "Temperature must be a number from 0 to 2, such as 0.7 (got “3”)."],
      [{ temperature: "-0.5" }, "Temperature must be a number from 0 to 2, such as 0.7 (got “-0.5”)."],
      [{ temperature: "warm" }, "Temperature must be a number from 0 to 2, such as 0.7 (got “warm”)."],
      [{ temperature: "Infinity" }, "Temperature must be a number from 0 to 2"],
      [{ max_tokens: "-5" }, "Max tokens must be a whole number of at least 1 (got “-5”)."],
      [{ max_tokens: "0" }, "Max tokens must be a whole number of at least 1 (got “0”)."],
      [{ max_tokens: "2.5" }, "Max tokens must be a whole number of at least 1"],
      [{ max_tokens: "40000" }, "Max tokens can be at most 32,768, the context length of Fake Fast (got 40,000)."],
      [{ reasoning_effort: "extreme" }, "Reasoning effort must be low, medium or high (got “extreme”)."],
      [
        { reasoning_effort: "high" },
        "Fake Fast does not take a reasoning effort: leave it empty, or choose another model.",
      ],
      [{ system_prompt: "x".repeat(32_001) }, "That system prompt is 32,001 characters long; the limit is 32,000."],
    ];
    for (const [bad, sentence] of cases) {
      const res = await save(chat.id, { system_prompt: "Changed", temperature: "0.2", max_tokens: "100", ...bad });
      const body = await res.text();
      expect([bad, res.status]).toEqual([bad, 422]);
      expect(body).toContain('role="alert"');
      expect(body.replaceAll("&#39;", "'")).toContain(sentence);
      expect(await stored(chat.id)).toEqual(before);
    }
    // The refused form comes back as typed, so nothing is lost.
    const refused = await (await save(chat.id, { system_prompt: "My long <i>draft</i>", temperature: "9" })).text();
    expect(refused).toContain("My long &lt;i&gt;draft&lt;/i&gt;");
    expect(refused).toContain('value="9"');
  });

  test("the request upstream carries the system prompt first, and only the parameters its model takes", async () => {
    const plain = await newChat();
    const bare = await send(plain.id, "No settings here");
    expect(bare.messages.map((m) => m.role)).toEqual(["user"]);
    expect(Object.keys(bare)).not.toContain("temperature");
    expect(Object.keys(bare)).not.toContain("max_tokens");
    expect(Object.keys(bare)).not.toContain("reasoning");

    const chat = await newChat("fake/fast");
    await save(chat.id, { system_prompt: "You are terse.", temperature: "0.3", max_tokens: "300" });
    const first = await send(chat.id, "First question");
    expect(first.messages).toEqual([
      { role: "system", content: "You are terse." },
      { role: "user", content: "First question" },
    ]);
    expect(first.temperature).toBe(0.3);
    expect(first.max_tokens).toBe(300);
    expect(first.reasoning).toBeUndefined();

    // Fake Smart takes reasoning and no temperature: the stored temperature stays, but is not sent.
    expect(
      (
        await server.fetch(`/chats/${chat.id}/model`, {
          method: "POST",
          body: new URLSearchParams({ model: "fake/smart" }),
        })
      ).status,
    ).toBe(204);
    const form = await (await server.fetch(`/chats/${chat.id}/settings`)).text();
    expect(form).toContain('name="reasoning_effort"');
    expect(form).not.toContain('name="temperature"');
    expect(
      (await save(chat.id, { system_prompt: "You are terse.", max_tokens: "300", reasoning_effort: "high" })).status,
    ).toBe(200);
    expect(await stored(chat.id)).toMatchObject({ temperature: 0.3, reasoningEffort: "high" });
    const second = await send(chat.id, "Second question");
    expect(second.messages[0]).toEqual({ role: "system", content: "You are terse." });
    expect(second.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(second.reasoning).toEqual({ effort: "high" });
    expect(second.max_tokens).toBe(300);
    expect(Object.keys(second)).not.toContain("temperature");
  });
});
