import { afterAll, beforeAll, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { isUnavailable } from "../../src/db/errors.ts";
import type { Generation, Outcome } from "../../src/llm/generation.ts";
import { type GenerationHooks, Generations } from "../../src/llm/generations.ts";
import { createUpstream } from "../../src/llm/openrouter.ts";
import { silentLogger } from "../../src/log.ts";
import { type FakeUpstream, startFakeUpstream } from "../fake-upstream.ts";

/*
 * How long an answer's end is tried: for as long as it takes while the database is away, a few
 * times when it refuses the write for another reason. The ends here fail as scripted (the real
 * database's faults are in test/chat/durability.test.ts and disk-full.test.ts); the answers stream
 * from the fake upstream over HTTP.
 */

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** Starts one answer whose end hook fails with each of `failures` in turn, then succeeds. */
function answerEndingAfter(failures: unknown[]) {
  const upstream = createUpstream(loadConfig({ OPENROUTER_BASE_URL: fake.url, OPENROUTER_API_KEY: "sk-or-test" }));
  const ends: Outcome[] = [];
  const delayed: Generation[] = [];
  /** Each answer whose delayed end stopped waiting, with what was still counted as unsaved then. */
  const resolved: { g: Generation; unsaved: Generation[] }[] = [];
  const hooks: GenerationHooks = {
    frame() {},
    save: async () => {},
    async end(_g, outcome) {
      ends.push(outcome);
      const failure = failures[ends.length - 1];
      if (failure) throw failure;
    },
    endDelayed: (g) => delayed.push(g),
    endResolved: (g) => resolved.push({ g, unsaved: generations.unsavedEnds() }),
    outage: isUnavailable,
    retrying: () => "",
    image() {},
  };
  const generations = new Generations(upstream, hooks, silentLogger, {
    frameMs: 10,
    saveMs: 1000,
    endRetryMs: 1,
    endRetryMaxMs: 5,
  });
  fake.queue({ text: "a short answer" });
  const g = generations.start({
    userId: "u",
    chatId: "c",
    messageId: "m",
    first: false,
    model: "fake/fast",
    messages: [{ role: "user", content: "hi" }],
  });
  return { g, generations, ends, delayed, resolved };
}

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
const diskFull = Object.assign(new Error('could not extend file "base/5/1": No space left on device'), {
  code: "53100",
});
const badRow = Object.assign(new Error("new row violates check constraint"), { code: "23514" });

test("an outage is outlasted: the end is tried until it is saved, and the answer stays live meanwhile", async () => {
  const failures = [...Array.from({ length: 20 }, () => refused), diskFull, diskFull];
  const { g, generations, ends, delayed, resolved } = answerEndingAfter(failures);
  await g.done;
  expect(ends.length).toBe(failures.length + 1);
  expect(ends.every((o) => o.status === "complete")).toBe(true);
  expect(delayed).toEqual([g]);
  // Told once it no longer counts as unsaved (the database banner goes then).
  expect(resolved).toEqual([{ g, unsaved: [] }]);
  expect(generations.get("m")).toBeUndefined();
});

test("a write refused for another reason is let go after a few tries, not held for ever", async () => {
  const { g, ends, resolved } = answerEndingAfter(Array.from({ length: 50 }, () => badRow));
  await g.done;
  expect(ends.length).toBe(5);
  expect(resolved).toEqual([{ g, unsaved: [] }]);
});

test("while the end waits, the answer is still this process's: listed for its lease, and counted as unsaved", async () => {
  const { g, generations, ends } = answerEndingAfter(Array.from({ length: 30 }, () => refused));
  while (ends.length < 3) await Bun.sleep(1);
  expect(generations.get("m")).toBe(g);
  expect(generations.ids()).toEqual(["m"]);
  expect(g.ending?.status).toBe("complete");
  expect(generations.unsavedEnds()).toEqual([g]);
  await g.done;
  expect(ends.length).toBe(31);
});
