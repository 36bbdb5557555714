import { afterAll, afterEach, beforeAll, describe, expect, setSystemTime, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { ModelCatalog } from "../../src/llm/models.ts";
import { createUpstream, type Upstream } from "../../src/llm/openrouter.ts";
import { silentLogger } from "../../src/log.ts";
import { FAKE_MODELS, type FakeModel, type FakeUpstream, startFakeUpstream } from "../fake-upstream.ts";

/** As OpenRouter lists a model that reads images and files (fields copied from its /models). */
const VISION: FakeModel = {
  id: "fake/vision",
  name: "Fake Vision",
  context_length: 128000,
  pricing: { prompt: "0.0000025", completion: "0.00001" },
  supported_parameters: ["max_tokens", "temperature"],
  architecture: {
    modality: "text+image->text",
    input_modalities: ["text", "image", "file"],
    output_modalities: ["text"],
    tokenizer: "GPT",
  },
};

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, VISION] });
});
afterAll(() => fake.stop());
afterEach(() => setSystemTime());

/** The real upstream client against the fake, counting how often the catalog asks for /models. */
function counted(baseUrl = fake.url) {
  const upstream = createUpstream(loadConfig({ OPENROUTER_BASE_URL: baseUrl, OPENROUTER_API_KEY: "sk-or-test" }));
  const counter = {
    fetches: 0,
    models: () => {
      counter.fetches++;
      return upstream.models();
    },
  } satisfies Pick<Upstream, "models"> & { fetches: number };
  return counter;
}

describe("the model catalog", () => {
  test("lists each model with its context length, prices, parameters and input/output modalities", async () => {
    const catalog = new ModelCatalog(counted(), "fake/fast", silentLogger);
    expect(await catalog.find("fake/vision")).toEqual({
      id: "fake/vision",
      name: "Fake Vision",
      contextLength: 128000,
      promptPrice: 2.5,
      completionPrice: 10,
      supportedParameters: ["max_tokens", "temperature"],
      inputModalities: ["text", "image", "file"],
      outputModalities: ["text"],
    });
    // A model listed without an architecture: its modalities are unknown, not assumed.
    const fast = await catalog.find("fake/fast");
    expect(fast?.contextLength).toBe(32768);
    expect(fast?.inputModalities).toBeUndefined();
    expect(await catalog.find("no/such-model")).toBeUndefined();
  });

  test("fetches the list once for many callers, and again only when it is an hour old", async () => {
    const upstream = counted();
    const catalog = new ModelCatalog(upstream, "fake/fast", silentLogger);
    const lists = await Promise.all([catalog.list(), catalog.list(), catalog.find("fake/smart"), catalog.list()]);
    expect(upstream.fetches).toBe(1);
    expect(lists[0]!.map((m) => m.id)).toEqual(["fake/fast", "fake/smart", "fake/vision"]);
    await catalog.list();
    expect(upstream.fetches).toBe(1);
    setSystemTime(new Date(Date.now() + 61 * 60 * 1000));
    // The stale list is served at once while a fresh one is fetched.
    expect((await catalog.list()).length).toBe(3);
    expect(upstream.fetches).toBe(2);
  });

  test("with no upstream it offers the default model alone, and keeps the last good list through an outage", async () => {
    const dead = startFakeUpstream();
    const deadUrl = dead.url;
    dead.stop();
    const down = new ModelCatalog(counted(deadUrl), "fake/default", silentLogger);
    expect(await down.list()).toEqual([{ id: "fake/default", name: "fake/default", contextLength: null }]);

    let url = fake.url;
    const upstream = {
      fetches: [] as Promise<unknown>[],
      models() {
        const fetching = counted(url).models();
        this.fetches.push(fetching);
        return fetching;
      },
    };
    const catalog = new ModelCatalog(upstream, "fake/default", silentLogger);
    expect((await catalog.list()).length).toBe(3);
    url = deadUrl;
    setSystemTime(new Date(Date.now() + 61 * 60 * 1000));
    await catalog.list(); // starts the refresh
    expect(upstream.fetches.length).toBe(2);
    expect(
      await upstream.fetches[1]!.then(
        () => "listed",
        () => "failed",
      ),
    ).toBe("failed");
    expect((await catalog.list()).map((m) => m.id)).toEqual(["fake/fast", "fake/smart", "fake/vision"]);
    // Asked again a minute later, not on every page meanwhile.
    expect(upstream.fetches.length).toBe(2);
  });
});
