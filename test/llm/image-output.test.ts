import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { type AnswerParams, createUpstream, imageOutput, type StreamEvent } from "../../src/llm/openrouter.ts";
import { type FakeUpstream, startFakeUpstream } from "../fake-upstream.ts";
import { png } from "../files/samples.ts";

/*
 * Images in answers, on the wire: OpenRouter streams an image-output model's pictures as
 * `choices[0].delta.images[]`, each `{type: "image_url", image_url: {url: "data:image/png;base64,..."}}`,
 * when the request asks for `modalities: ["image", "text"]`
 * (https://openrouter.ai/docs/features/multimodal/image-generation). Over HTTP to the fake upstream.
 */

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const upstream = () =>
  createUpstream(loadConfig({ OPENROUTER_BASE_URL: fake.url, OPENROUTER_API_KEY: "sk-or-test" }), { stallMs: 2000 });

async function collect(params?: AnswerParams): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  const signal = new AbortController().signal;
  for await (const e of upstream().stream({
    model: "fake/painter",
    messages: [{ role: "user", content: "draw" }],
    params,
    signal,
  }))
    events.push(e);
  return events;
}

test("an image-output model's images arrive as image events with their data URLs, in order, among the words", async () => {
  const first = png(3, 2, 1).toString("base64");
  const second = png(2, 2, 2).toString("base64");
  fake.queue({ text: "Here it is.", tokenSize: 5, images: [first, second], imagesAtToken: 1 });
  const events = await collect({ modalities: ["image", "text"] });
  expect(events.filter((e) => e.type === "delta" || e.type === "image")).toEqual([
    { type: "delta", content: "Here " },
    { type: "image", url: `data:image/png;base64,${first}` },
    { type: "image", url: `data:image/png;base64,${second}` },
    { type: "delta", content: "it is" },
    { type: "delta", content: "." },
  ]);
  expect(events.at(-2)).toEqual({ type: "finish", reason: "stop" });
  expect(fake.requests.at(-1)!.body.modalities).toEqual(["image", "text"]);
});

test("a request without modalities set carries none", async () => {
  fake.queue({ text: "words" });
  await collect({ maxTokens: 50 });
  const body = fake.requests.at(-1)!.body;
  expect(body.max_tokens).toBe(50);
  expect("modalities" in body).toBe(false);
});

test("an image entry with no URL string is still an image event (an empty URL), so it can be reported", async () => {
  fake.queue({ text: "ok", images: [{ broken: true }, null] });
  const events = await collect({ modalities: ["image", "text"] });
  expect(events.filter((e) => e.type === "image")).toEqual([
    { type: "image", url: "" },
    { type: "image", url: "" },
  ]);
  expect(events.some((e) => e.type === "finish")).toBe(true);
});

test("images are asked for only from a model whose output modalities include images", () => {
  expect(imageOutput({ outputModalities: ["image", "text"] })).toEqual({ modalities: ["image", "text"] });
  expect(imageOutput({ outputModalities: ["text"] })).toEqual({});
  expect(imageOutput({ outputModalities: undefined })).toEqual({});
  expect(imageOutput(undefined)).toEqual({});
});
