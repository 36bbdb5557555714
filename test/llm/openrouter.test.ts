import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { APIConnectionError, APIError } from "openai";
import { loadConfig } from "../../src/config.ts";
import { estimateTokens, fitToContext } from "../../src/llm/context.ts";
import { createUpstream, type StreamEvent, type UpstreamTiming } from "../../src/llm/openrouter.ts";
import { retryDelay } from "../../src/llm/upstream-errors.ts";
import { type FakeUpstream, startFakeUpstream } from "../fake-upstream.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const upstream = (env: Record<string, string> = {}, timing: Partial<UpstreamTiming> = {}) =>
  createUpstream(
    loadConfig({
      OPENROUTER_BASE_URL: fake.url,
      OPENROUTER_API_KEY: "sk-or-test",
      PUBLIC_URL: "https://chat.example.com",
      ...env,
    }),
    { retryBaseMs: 20, stallMs: 2000, ...timing },
  );

/** Runs one streamed answer to its end; returns its events and the error it ended with, if any. */
async function collect(up = upstream(), signal = new AbortController().signal) {
  const events: StreamEvent[] = [];
  try {
    for await (const e of up.stream({ model: "fake/fast", messages: [{ role: "user", content: "hi" }], signal }))
      events.push(e);
    return { events, text: textOf(events), error: undefined as string | undefined };
  } catch (err) {
    return { events, text: textOf(events), error: (err as Error).message };
  }
}
const textOf = (events: StreamEvent[]) => events.map((e) => (e.type === "delta" ? e.content : "")).join("");

describe("requests", () => {
  test("carry the attribution headers, the model and the messages", async () => {
    fake.queue({ text: "ok" });
    const { text } = await collect();
    expect(text).toBe("ok");
    const req = fake.requests.at(-1)!;
    expect(req.headers["http-referer"]).toBe("https://chat.example.com");
    expect(req.headers["x-title"]).toBe("Parley");
    expect(req.headers["x-openrouter-title"]).toBe("Parley");
    expect(req.headers.authorization).toBe("Bearer sk-or-test");
    expect(req.body).toMatchObject({ model: "fake/fast", stream: true, messages: [{ role: "user", content: "hi" }] });
  });

  test("the model list carries names, context lengths, prices per million tokens and supported parameters", async () => {
    const models = await upstream().models();
    expect(models).toContainEqual({
      id: "fake/smart",
      name: "Fake Smart",
      contextLength: 200000,
      promptPrice: 3,
      completionPrice: 15,
      supportedParameters: ["include_reasoning", "max_tokens", "reasoning"],
    });
  });
});

describe("failures before the first token", () => {
  for (const status of [408, 429, 502, 503]) {
    test(`${status} is retried, with a retrying event, and the answer then streams`, async () => {
      fake.queue({ status }, { status }, { text: "after retries" });
      const before = fake.requests.length;
      const { events, text, error } = await collect();
      expect(error).toBeUndefined();
      expect(text).toBe("after retries");
      expect(fake.requests.length - before).toBe(3);
      const retries = events.filter((e) => e.type === "retrying");
      expect(retries.map((e) => e.type === "retrying" && e.attempt)).toEqual([2, 3]);
    });
  }

  test("Retry-After is honoured", async () => {
    fake.queue({ status: 429, retryAfter: "1" }, { text: "waited" });
    const started = performance.now();
    const { events, text } = await collect();
    expect(text).toBe("waited");
    expect(events[0]).toMatchObject({ type: "retrying", delayMs: 1000, reason: "The model is rate-limited" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
  });

  test("retries are bounded, and the last failure becomes a sentence", async () => {
    fake.queue({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    const before = fake.requests.length;
    const { error } = await collect();
    expect(error).toBe("The model's provider is unavailable right now; retry in a moment.");
    expect(fake.requests.length - before).toBe(4); // UPSTREAM_MAX_RETRIES=3
  });

  const final: [number, Record<string, unknown>, RegExp][] = [
    [400, { errorMessage: "max_tokens is too large" }, /^The model refused the request: max_tokens is too large$/],
    [401, {}, /^The API key was rejected: check OPENROUTER_API_KEY\.$/],
    [402, {}, /out of credits/],
    [
      403,
      { errorMessage: "Flagged", errorMetadata: { reasons: ["violence", "harassment"] } },
      /blocked by moderation: Flagged \(violence, harassment\)/,
    ],
  ];
  for (const [status, script, sentence] of final) {
    test(`${status} is not retried and becomes its own sentence`, async () => {
      fake.queue({ status, ...script });
      const before = fake.requests.length;
      const { error, events } = await collect();
      expect(error).toMatch(sentence);
      expect(fake.requests.length - before).toBe(1);
      expect(events.some((e) => e.type === "retrying")).toBe(false);
    });
  }

  test("a network error is retried, then reported", async () => {
    const down = createUpstream(loadConfig({ OPENROUTER_BASE_URL: "http://127.0.0.1:1/v1", OPENROUTER_API_KEY: "k" }), {
      retryBaseMs: 5,
      maxRetries: 2,
    });
    const { events, error } = await collect(down);
    expect(events.filter((e) => e.type === "retrying")).toHaveLength(2);
    expect(error).toMatch(/^The model could not be reached/);
  });

  test("no API key: nothing is sent, and the sentence says how to set one", async () => {
    const before = fake.requests.length;
    const { error } = await collect(upstream({ OPENROUTER_API_KEY: "" }));
    expect(error).toContain("OPENROUTER_API_KEY");
    expect(fake.requests.length).toBe(before);
  });
});

describe("during the stream", () => {
  test("keep-alive comments are ignored, and keep a slow first token from counting as a stall", async () => {
    // Without the comments this stalls: the first token comes 3 s in, past the 2 s window. The fake
    // comments every 200 ms, ten times a window, so a busy machine cannot starve them out.
    fake.queue({ text: "slow start", firstTokenDelayMs: 3000 });
    const { text, error } = await collect(upstream({}, { stallMs: 2000 }));
    expect(error).toBeUndefined();
    expect(text).toBe("slow start");
  });

  test("an error event after HTTP 200 ends the answer with an error, text so far kept", async () => {
    fake.queue({ text: "abcdefghijklmnop", tokenSize: 2, errorAfterTokens: 3 });
    const { text, error } = await collect();
    expect(text).toBe("abcdef");
    expect(error).toMatch(/failed mid-answer/);
  });

  test("a stall aborts the request (the upstream sees it close) and says the model stopped responding", async () => {
    fake.queue({ text: "abcdefghijklmnop", tokenSize: 2, stallAfterTokens: 3 });
    const { text, error } = await collect(upstream({}, { stallMs: 300 }));
    expect(text).toBe("abcdef");
    expect(error).toBe("The model stopped responding (nothing for 0 s).");
    await fake.requests.at(-1)!.disconnected;
  });

  test("a dropped connection ends the answer with an error, text so far kept", async () => {
    fake.queue({ text: "abcdefghijklmnop", tokenSize: 2, dropAfterTokens: 4 });
    const { text, error } = await collect();
    expect(text).toBe("abcdefgh");
    expect(error).toBe("The connection to the model dropped mid-answer.");
  });

  for (const reason of ["length", "content_filter"] as const) {
    test(`finish_reason ${reason} is reported`, async () => {
      fake.queue({ text: "cut", finishReason: reason });
      const { events } = await collect();
      expect(events).toContainEqual({ type: "finish", reason });
    });
  }

  test("reasoning arrives apart from the answer, and usage carries reasoning and cached tokens and cost", async () => {
    fake.queue({ reasoning: "Let me think.", text: "Answer.", tokenSize: 3 });
    const { events, text } = await collect();
    expect(text).toBe("Answer.");
    expect(events.map((e) => (e.type === "reasoning" ? e.content : "")).join("")).toBe("Let me think.");
    const firstAnswer = events.findIndex((e) => e.type === "delta");
    const lastThought = events.findLastIndex((e) => e.type === "reasoning");
    expect(lastThought).toBeLessThan(firstAnswer);
    expect(events).toContainEqual({
      type: "usage",
      usage: { promptTokens: 12, completionTokens: 8, reasoningTokens: 5, cachedTokens: 4, cost: 0.000123 },
    });
  });

  test("reasoning sent only as reasoning_details summaries is read from them", async () => {
    fake.queue({ reasoning: "Summed up.", reasoningDetailsOnly: true, text: "Answer.", tokenSize: 3 });
    const { events, text } = await collect();
    expect(text).toBe("Answer.");
    expect(events.map((e) => (e.type === "reasoning" ? e.content : "")).join("")).toBe("Summed up.");
  });

  test("aborting closes the upstream connection and ends quietly", async () => {
    fake.queue({ text: "x".repeat(2000), tokenDelayMs: 10, tokenSize: 1 });
    const controller = new AbortController();
    const run = collect(upstream(), controller.signal);
    await Bun.sleep(150);
    controller.abort();
    const { error, text } = await run;
    expect(error).toBeUndefined();
    expect(text.length).toBeLessThan(2000);
    await fake.requests.at(-1)!.disconnected;
  });
});

describe("retry delays", () => {
  const apiError = (status: number, retryAfter?: string) =>
    new APIError(status, {}, "x", new Headers(retryAfter ? { "retry-after": retryAfter } : {}));
  test("Retry-After in seconds or as a date, capped at 30 s; backoff with jitter otherwise", () => {
    expect(retryDelay(apiError(429, "2"), 1, 3, 1000)).toBe(2000);
    expect(retryDelay(apiError(429, "3600"), 1, 3, 1000)).toBe(30_000);
    const date = new Date(Date.now() + 5000).toUTCString();
    expect(retryDelay(apiError(503, date), 1, 3, 1000)).toBeGreaterThan(3000);
    for (let i = 0; i < 50; i++) {
      const d = retryDelay(apiError(502), 3, 3, 1000)!;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
  test("final statuses and exhausted attempts are not retried", () => {
    expect(retryDelay(apiError(400), 1, 3, 1000)).toBeUndefined();
    expect(retryDelay(apiError(401), 1, 3, 1000)).toBeUndefined();
    expect(retryDelay(apiError(429), 4, 3, 1000)).toBeUndefined();
    expect(retryDelay(new APIConnectionError({ message: "down" }), 1, 3, 1000)).toBeGreaterThanOrEqual(0);
  });
});

describe("fitting the conversation to the model's context", () => {
  const turn = (role: "system" | "user" | "assistant", n: number) => ({
    role,
    content: `${role}:${n}:`.padEnd(300, "x"),
  });
  test("drops the oldest turns, never the system prompt or the newest turn", () => {
    const turns = [
      turn("system", 0),
      ...Array.from({ length: 40 }, (_, i) => turn(i % 2 ? "assistant" : "user", i + 1)),
    ];
    const fitted = fitToContext(turns, 2000);
    expect(fitted[0]).toBe(turns[0]);
    expect(fitted.at(-1)).toBe(turns.at(-1));
    expect(fitted.length).toBeLessThan(turns.length);
    const kept = fitted.slice(1, -1);
    expect(kept).toEqual(turns.slice(turns.length - 1 - kept.length, -1));
    const used = fitted.reduce((n, t) => n + estimateTokens(t), 0);
    expect(used).toBeLessThanOrEqual(2000 - 500);
  });
  test("keeps everything when it fits or when the context length is unknown, and the newest turn even alone", () => {
    const turns = [turn("user", 1), turn("assistant", 2), turn("user", 3)];
    expect(fitToContext(turns, 200_000)).toEqual(turns);
    expect(fitToContext(turns, null)).toEqual(turns);
    const huge = [turn("user", 1), { role: "user" as const, content: "y".repeat(100_000) }];
    expect(fitToContext(huge, 1000)).toEqual([huge[1]!]);
  });
});

describe("many answers at once", () => {
  // Bun's fetch runs at most 256 requests per process and queues the rest unseen; answers must not.
  test("300 streams are all in flight together (the upstream holds every answer until all 300 have arrived)", async () => {
    const N = 300;
    let arrived = 0;
    const allIn = Promise.withResolvers<void>();
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: "x", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const server = Bun.serve({
      port: 0,
      idleTimeout: 60,
      async fetch() {
        if (++arrived === N) allIn.resolve();
        await allIn.promise;
        return new Response(`${chunk({ content: "here" })}${chunk({}, "stop")}data: [DONE]\n\n`, {
          headers: { "content-type": "text/event-stream" },
        });
      },
    });
    try {
      const up = createUpstream(
        loadConfig({ OPENROUTER_BASE_URL: `http://127.0.0.1:${server.port}/api/v1`, OPENROUTER_API_KEY: "sk-or-test" }),
        { retryBaseMs: 20, stallMs: 30_000, maxRetries: 0 },
      );
      const results = await Promise.all(Array.from({ length: N }, () => collect(up)));
      expect(arrived).toBe(N);
      expect(results.filter((r) => r.text === "here" && !r.error)).toHaveLength(N);
    } finally {
      await server.stop(true);
    }
  }, 40_000);
});
