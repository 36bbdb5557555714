import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import OpenAI, { APIError } from "openai";
import { apiKeys, chats, groupMembers, groups, usage, users } from "../../src/db/schema.ts";
import {
  defaultAnswer,
  FAKE_MODELS,
  type FakeUpstream,
  fakeEnv,
  fakeTitle,
  startFakeUpstream,
} from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { createKey, revokeKey } from "../support/keys.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** Requests one key may make per minute in these tests: small, so going over it is quick. */
const PER_MINUTE = 8;

/** The error an SDK call raised (or a failure of the test when it raised none). */
async function raised(call: () => Promise<unknown>): Promise<APIError> {
  try {
    await call();
  } catch (err) {
    if (err instanceof APIError) return err;
    throw err;
  }
  throw new Error("the call did not fail");
}

eachDriver("the OpenAI-compatible API, through the openai SDK", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake, { API_REQUESTS_PER_MINUTE: String(PER_MINUTE) }), {
      username: "api-ann",
    });
  });
  afterAll(() => server.stop());

  /** The SDK as an editor or script sets it up: Parley's /v1 as its base URL, a personal key. */
  const client = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${server.url}/v1`, maxRetries: 0 });
  const keyOf = async (who: Person, name: string) => {
    const key = await createKey(who, name);
    return { ...key, openai: client(key.token) };
  };
  const usageOf = (keyId: string) =>
    t.database.db
      .select()
      .from(usage)
      .where(and(eq(usage.apiKeyId, keyId), eq(usage.kind, "api")));
  /** The key's usage rows once every one is settled (a stream settles just after its last event). */
  const settledUsage = async (keyId: string, count: number) => {
    for (let i = 0; i < 400; i++) {
      const rows = await usageOf(keyId);
      if (rows.length === count && rows.every((r) => r.settledAt)) return rows;
      await Bun.sleep(25);
    }
    throw new Error(`the key's ${count} usage rows were never all settled: ${JSON.stringify(await usageOf(keyId))}`);
  };

  test("a completion, not streamed: the answer and usage come back, the request went upstream as sent, the usage row is settled", async () => {
    const { id, openai } = await keyOf(server, "plain script");
    const answer = await openai.chat.completions.create({
      model: "fake/fast",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: [{ type: "text", text: "Hello there" }] },
      ],
      temperature: 0.3,
      max_tokens: 50,
    });
    expect(answer.choices[0]!.message.content).toBe(fakeTitle("Hello there"));
    expect(answer.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 5 });

    const sent = fake.requests.at(-1)!;
    expect(sent.body).toMatchObject({ model: "fake/fast", temperature: 0.3, max_tokens: 50 });
    expect(sent.body.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Hello there" }] },
    ]);
    // On the team's key, never the person's.
    expect(sent.headers.authorization).toBe("Bearer sk-test");

    const [row] = await settledUsage(id, 1);
    expect(row).toMatchObject({
      userId: server.user.id,
      kind: "api",
      model: "fake/fast",
      promptTokens: 10,
      completionTokens: 5,
      cost: 0.00001,
    });
    expect(row!.estimate).toBeGreaterThan(0);
    const [key] = await t.database.db.select().from(apiKeys).where(eq(apiKeys.id, id));
    expect(key!.lastUsedAt).not.toBeNull();
  });

  test("a streamed completion arrives in pieces; the usage chunk only when asked for; settled with the reported cost", async () => {
    const { id, openai } = await keyOf(server, "streaming editor");
    let text = "";
    let usageSeen = false;
    for await (const chunk of await openai.chat.completions.create({
      model: "fake/fast",
      messages: [{ role: "user", content: "Stream it" }],
      stream: true,
    })) {
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usageSeen = true;
    }
    expect(text).toBe(defaultAnswer("Stream it"));
    expect(usageSeen).toBe(false);
    // Parley asks for the usage itself, to settle what the request cost.
    expect(fake.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });

    fake.queue({ text: "Counted.", usage: { promptTokens: 7, cachedTokens: 0, cost: 0.000456 } });
    const chunks = [];
    for await (const chunk of await openai.chat.completions.create({
      model: "fake/fast",
      messages: [{ role: "user", content: "Count me" }],
      stream: true,
      stream_options: { include_usage: true },
    })) {
      chunks.push(chunk);
    }
    expect(chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 7, cost: 0.000456 });

    const rows = await settledUsage(id, 2);
    const costs = rows.map((r) => r.cost).sort();
    expect(costs).toEqual([0.000123, 0.000456]);
    expect(rows.find((r) => r.cost === 0.000456)).toMatchObject({ promptTokens: 7, completionTokens: 2 });
  });

  test("the models list is OpenAI's list shape, of the models the person may use", async () => {
    const { openai } = await keyOf(server, "model lister");
    const models = [];
    for await (const model of openai.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toEqual(FAKE_MODELS.map((m) => m.id));
    expect(models[0]).toMatchObject({ object: "model", owned_by: "fake" });
  });

  test("refused with 401 and a sentence: no key, an unknown key, a key in the wrong header, a session cookie alone", async () => {
    const { token } = await keyOf(server, "misplaced");
    const none = await fetch(`${server.url}/v1/models`);
    expect([none.status, none.headers.get("www-authenticate")]).toEqual([401, 'Bearer realm="parley"']);
    expect((await none.json()).error.message).toContain("No API key was sent");

    const unknown = await raised(() => client(`pk_${"A".repeat(43)}`).models.list());
    expect([unknown.status, unknown.code]).toEqual([401, "invalid_api_key"]);
    expect(unknown.message).toContain("not one Parley knows");

    const cases: [Record<string, string>, string][] = [
      [{ "x-api-key": token }, "in the x-api-key header is not read"],
      [{ "api-key": token }, "in the api-key header is not read"],
      [{ authorization: token }, "The Authorization header must be “Bearer <key>”"],
      [{ authorization: `Basic ${btoa(`me:${token}`)}` }, "The Authorization header must be “Bearer <key>”"],
      [{ cookie: server.cookie }, "No API key was sent"],
    ];
    for (const [headers, sentence] of cases) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ model: "fake/fast", messages: [{ role: "user", content: "hi" }] }),
      });
      const body = await res.json();
      expect({ headers: Object.keys(headers), status: res.status }).toEqual({
        headers: Object.keys(headers),
        status: 401,
      });
      expect(body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
      expect(body.error.message).toContain(sentence);
    }
    const inAddress = await fetch(`${server.url}/v1/models?api_key=${token}`);
    expect(inAddress.status).toBe(401);
    expect((await inAddress.json()).error.message).toContain("in the address is not read");
  });

  test("a revoked key is refused at once", async () => {
    const { id, openai } = await keyOf(server, "soon revoked");
    await openai.models.list();
    expect((await revokeKey(server, id)).status).toBe(200);
    const refused = await raised(() => openai.models.list());
    expect(refused.status).toBe(401);
    expect(refused.message).toContain("(“soon revoked”) was revoked");
  });

  test("a disabled person's keys are refused, and work again once the account is enabled", async () => {
    const carol = await server.signUp("api-carol");
    const { openai } = await keyOf(carol, "carol's script");
    await openai.models.list();
    await t.database.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, carol.user.id));
    const refused = await raised(() =>
      openai.chat.completions.create({ model: "fake/fast", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(refused.status).toBe(401);
    expect(refused.message).toContain("is disabled");
    await t.database.db.update(users).set({ disabledAt: null }).where(eq(users.id, carol.user.id));
    await openai.models.list();
  });

  test("a body that is not a chat completion request is refused with 400 and a sentence naming the field", async () => {
    const { openai } = await keyOf(server, "sloppy script");
    const cases: [unknown, string, string | null][] = [
      [{ messages: [{ role: "user", content: "hi" }] }, "Name the model", "model"],
      [{ model: "fake/fast", messages: "hi" }, "must be a list of at least one message", "messages"],
      [{ model: "fake/fast", messages: [] }, "must be a list of at least one message", "messages"],
      [{ model: "fake/fast", messages: [{ role: "wizard", content: "hi" }] }, "Message 1: the role", "messages[0]"],
      [{ model: "fake/fast", messages: [{ role: "user", content: 42 }] }, "Message 1: the content", "messages[0]"],
      [{ model: "fake/fast", messages: [{ role: "user", content: [{ text: "no type" }] }] }, "part 1", "messages[0]"],
      [
        { model: "fake/fast", messages: [{ role: "user", content: "hi" }], temperature: 9 },
        "temperature",
        "temperature",
      ],
      [{ model: "fake/fast", messages: [{ role: "user", content: "hi" }], max_tokens: -1 }, "max_tokens", "max_tokens"],
    ];
    const before = fake.requests.length;
    for (const [body, sentence, param] of cases) {
      const err = await raised(() => openai.chat.completions.create(body as never));
      expect({ body, status: err.status, param: err.param }).toEqual({ body, status: 400, param });
      expect(err.message).toContain(sentence);
    }
    // A second key: the first has made as many requests as a minute allows.
    const { token: token2, openai: openai2 } = await keyOf(server, "sloppier script");
    const notJson = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token2}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect((await notJson.json()).error.message).toContain("must be JSON");
    const huge = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token2}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "fake/fast", messages: [{ role: "user", content: "x".repeat(5 * 1024 * 1024) }] }),
    });
    expect(huge.status).toBe(413);
    expect((await huge.json()).error.message).toContain("the most this API takes");
    // A body without a length cannot be bounded before it is read: refused, in OpenAI's shape too.
    const chunked = await fetch(`${server.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token2}`, "content-type": "application/json" },
      // A stream Bun cannot measure beforehand (a Blob's stream it sends with its length).
      body: new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"model":"fake/fast","messages":[]}'));
          controller.close();
        },
      }),
    });
    expect(chunked.status).toBe(411);
    expect((await chunked.json()).error).toMatchObject({ type: "invalid_request_error" });
    const nowhere = await raised(() => openai2.embeddings.create({ model: "fake/fast", input: "hi" }));
    expect(nowhere.status).toBe(404);
    expect(nowhere.message).toContain("POST /v1/chat/completions");
    expect(fake.requests.length).toBe(before);
  });

  test("hostile bodies get an OpenAI-shaped 400, never a 500, and never reach the upstream", async () => {
    const bodies = [
      "null",
      "[]",
      '"text"',
      "1e999",
      '{"model":null,"messages":[]}',
      '{"model":"fake/fast","messages":[null]}',
      '{"model":"fake/fast","messages":[[]]}',
      '{"model":"fake/fast","messages":{"0":{"role":"user","content":"hi"}}}',
      '{"model":"fake/fast","messages":[{"role":"user","content":"hi"}],"stream":"yes"}',
      '{"model":"fake/fast","messages":[{"role":"user","content":"hi"}],"stream_options":7}',
      `{"model":"${"m".repeat(300)}","messages":[{"role":"user","content":"hi"}]}`,
      '{"model":"fake/fast","messages":[{"role":"__proto__","content":"hi"}]}',
      '{"__proto__":{"model":"fake/fast"},"messages":[{"role":"user","content":"hi"}]}',
      '{"model":"fake/fast","messages":[{"role":"user","content":[null]}]}',
      '{"model":"fake/fast","messages":[{"role":"user","content":"hi"}],"max_tokens":1.5}',
      "\u0000",
    ];
    const before = fake.requests.length;
    let key = await keyOf(server, "fuzzer");
    for (const [i, body] of bodies.entries()) {
      // A fresh key every few requests, so the per-minute limit is not what answers.
      if (i % (PER_MINUTE - 1) === PER_MINUTE - 2) {
        await revokeKey(server, key.id);
        key = await keyOf(server, `fuzzer ${i}`);
      }
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key.token}`, "content-type": "application/json" },
        body,
      });
      const answer = await res.json();
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
      expect(typeof answer.error.message).toBe("string");
      expect(answer.error.type).toBe("invalid_request_error");
    }
    expect(fake.requests.length).toBe(before);
  });

  test(`over ${PER_MINUTE} requests a minute, a key is refused with 429 and Retry-After; another key is not`, async () => {
    const { openai } = await keyOf(server, "busy script");
    for (let i = 0; i < PER_MINUTE; i++) await openai.models.list();
    const refused = await raised(() => openai.models.list());
    expect([refused.status, refused.code]).toEqual([429, "rate_limit_exceeded"]);
    expect(refused.message).toContain(`made ${PER_MINUTE} requests in the last minute`);
    expect(Number(refused.headers?.get("retry-after"))).toBeGreaterThan(0);
    const { openai: other } = await keyOf(server, "quiet script");
    await other.models.list();
  });

  test("an upstream error comes back with the upstream's status and message; nothing is counted as spent", async () => {
    const { id, openai } = await keyOf(server, "unlucky script");
    fake.queue({ status: 503, errorMessage: "Provider overloaded", retryAfter: "7" });
    const err = await raised(() =>
      openai.chat.completions.create({ model: "fake/fast", messages: [{ role: "user", content: "hi" }], stream: true }),
    );
    expect(err.status).toBe(503);
    expect(err.message).toContain("Provider overloaded");
    expect(err.headers?.get("retry-after")).toBe("7");
    const [row] = await settledUsage(id, 1);
    expect(row!.cost).toBe(0);
  });

  test("the upstream dying mid-stream ends the stream with an error the SDK raises; what ran is still settled", async () => {
    const { id, openai } = await keyOf(server, "cut-off script");
    for (const [script, sentence] of [
      [
        { text: "One two three four five six", tokenSize: 4, errorAfterTokens: 3, errorMessage: "Provider crashed" },
        "Provider crashed",
      ],
      [{ text: "One two three four five six", tokenSize: 4, dropAfterTokens: 3 }, "connection dropped"],
    ] as const) {
      fake.queue(script);
      let text = "";
      const err = await raised(async () => {
        for await (const chunk of await openai.chat.completions.create({
          model: "fake/fast",
          messages: [{ role: "user", content: "Tell me" }],
          stream: true,
        })) {
          text += chunk.choices[0]?.delta?.content ?? "";
        }
      });
      expect(text).toBe("One two thre");
      expect(err.message).toContain(sentence);
    }
    const rows = await settledUsage(id, 2);
    // No usage was reported: what the prompt and the pieces sent probably cost.
    for (const row of rows) expect(row.cost).toBeGreaterThan(0);
  });

  test("a client that stops reading mid-stream closes the upstream request, and what ran is settled", async () => {
    const { id, openai } = await keyOf(server, "impatient script");
    fake.queue({ text: "word ".repeat(200), tokenSize: 5, tokenDelayMs: 10 });
    const stream = await openai.chat.completions.create({
      model: "fake/fast",
      messages: [{ role: "user", content: "Go on and on" }],
      stream: true,
    });
    let pieces = 0;
    for await (const _ of stream) if (++pieces === 5) break;
    const sent = fake.requests.at(-1)!;
    await sent.disconnected;
    expect(sent.wasDisconnected).toBe(true);
    const [row] = await settledUsage(id, 1);
    expect(row!.cost).toBeGreaterThan(0);
  });

  test("a person's groups and limits hold on /v1: only allowed models are listed, a forbidden one gets 403, spending over the limit 402, and neither goes upstream", async () => {
    const bea = await server.signUp("api-bea");
    const [group] = await t.database.db
      .insert(groups)
      .values({ name: "Only fast", allowedModels: ["fake/fast"] })
      .returning();
    await t.database.db.insert(groupMembers).values({ groupId: group!.id, userId: bea.user.id });
    const { openai } = await keyOf(bea, "bea's editor");
    const listed = [];
    for await (const model of openai.models.list()) listed.push(model.id);
    expect(listed).toEqual(["fake/fast"]);

    const before = fake.requests.length;
    const forbidden = await raised(() =>
      openai.chat.completions.create({ model: "fake/smart", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.message).toContain("fake/smart");

    // A dollar a day, already spent today.
    await t.database.db.update(users).set({ dailyLimit: 1 }).where(eq(users.id, bea.user.id));
    await t.database.db.insert(usage).values({
      userId: bea.user.id,
      kind: "answer",
      model: "fake/fast",
      estimate: 1.2,
      cost: 1.2,
      settledAt: new Date(),
    });
    const over = await raised(() =>
      openai.chat.completions.create({ model: "fake/fast", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(over.status).toBe(402);
    expect(over.message).toMatch(
      /You have reached your daily limit of \$1\.00 \(spent \$1\.20\); it resets at 00:00 UTC/,
    );
    expect(fake.requests.length).toBe(before);
  });

  test("none of it was stored as a chat", async () => {
    const own = await t.database.db.select().from(chats).where(eq(chats.userId, server.user.id));
    expect(own).toEqual([]);
    expect((await usageOf((await keyOf(server, "last")).id)).length).toBe(0);
  });
});
