import { describe, expect, test } from "bun:test";
import {
  branchHistory,
  compose,
  type Draft,
  fitToModel,
  STEPS,
  type Step,
  withInstructions,
  withParams,
} from "../../src/chat/pipeline.ts";
import type { Turn } from "../../src/chat/repos/exchange.ts";
import { NO_SETTINGS } from "../../src/chat/settings.ts";
import type { Message } from "../../src/db/schema.ts";
import type { Model } from "../../src/llm/openrouter.ts";

// Ids sort in the order the messages were written, as UUIDv7s do.
const turn = (n: number, role: Turn["role"], content: string, status: Turn["status"] = "complete"): Turn => ({
  id: String(n).padStart(8, "0"),
  role,
  content,
  status,
});
const answer = (n: number) => ({ ...turn(n, "assistant", "", "streaming"), chatId: "c", model: "m/x" }) as Message;
const draft = (history: Turn[], over: Partial<Draft> = {}): Draft => ({
  answer: answer(history.length + 1),
  history,
  model: undefined,
  settings: undefined,
  files: new Map(),
  messages: [],
  params: {},
  notices: [],
  ...over,
});
const model = (over: Partial<Model>): Model => ({ id: "m/x", name: "X", contextLength: null, ...over });

describe("branchHistory", () => {
  test("sends what was said and the answers that ended well enough to keep, in order", () => {
    const history = [
      turn(1, "user", "first"),
      turn(2, "assistant", "a complete answer"),
      turn(3, "user", "second"),
      turn(4, "assistant", "a stopped answer", "stopped"),
      turn(5, "user", "third"),
      turn(6, "assistant", "half an answer", "error"),
      turn(7, "user", "fourth"),
      turn(8, "assistant", "cut off", "interrupted"),
      turn(9, "user", "fifth"),
    ];
    expect(branchHistory(draft(history)).messages).toEqual([
      { role: "user", content: "first" },
      { role: "assistant", content: "a complete answer" },
      { role: "user", content: "second" },
      { role: "assistant", content: "a stopped answer" },
      { role: "user", content: "third" },
      { role: "user", content: "fourth" },
      { role: "user", content: "fifth" },
    ]);
  });

  test("stops at the answer being written: a regenerated answer is not sent its own older sibling's words", () => {
    const history = [turn(1, "user", "question"), turn(2, "assistant", "old answer")];
    const fresh = { ...answer(2), id: "00000002" };
    expect(branchHistory(draft(history, { answer: fresh })).messages).toEqual([{ role: "user", content: "question" }]);
  });

  test("leaves out empty messages", () => {
    const history = [turn(1, "user", "q"), turn(2, "assistant", "", "stopped"), turn(3, "user", "again")];
    expect(branchHistory(draft(history)).messages.map((m) => m.content)).toEqual(["q", "again"]);
  });
});

describe("withInstructions", () => {
  test("puts the chat's system prompt first", () => {
    const d = draft([], {
      messages: [{ role: "user", content: "hi" }],
      settings: { ...NO_SETTINGS, systemPrompt: "Be brief." },
    });
    expect(withInstructions(d).messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "hi" },
    ]);
  });

  test("adds nothing when the chat has no prompt, or is gone", () => {
    const messages = [{ role: "user" as const, content: "hi" }];
    expect(withInstructions(draft([], { messages, settings: NO_SETTINGS })).messages).toEqual(messages);
    expect(withInstructions(draft([], { messages })).messages).toEqual(messages);
  });
});

describe("fitToModel", () => {
  const long = "x".repeat(3000); // about 1,000 tokens each
  const messages = [
    { role: "system" as const, content: "Be brief." },
    ...Array.from({ length: 8 }, (_, i) => ({
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      content: `${i} ${long}`,
    })),
  ];

  test("drops the oldest turns to fit the model's context, keeping the instructions and the question", () => {
    const fitted = fitToModel(draft([], { messages, model: model({ contextLength: 4000 }) })).messages;
    expect(fitted[0]).toEqual(messages[0]!);
    expect(fitted.at(-1)).toEqual(messages.at(-1)!);
    expect(fitted.length).toBeLessThan(messages.length);
    expect(fitted.slice(1).map((m) => m.content[0])).toEqual(
      messages.slice(-(fitted.length - 1)).map((m) => m.content[0]),
    );
  });

  test("sends everything when the model's context is unknown", () => {
    expect(fitToModel(draft([], { messages })).messages).toEqual(messages);
    expect(fitToModel(draft([], { messages, model: model({ contextLength: null }) })).messages).toEqual(messages);
  });
});

describe("withParams", () => {
  const settings = { ...NO_SETTINGS, temperature: 0.3, maxTokens: 500, reasoningEffort: "high" as const };

  test("sends the chat's parameters the model takes, and leaves out those it does not", () => {
    const takesAll = model({ supportedParameters: ["temperature", "max_tokens", "reasoning"] });
    expect(withParams(draft([], { settings, model: takesAll })).params).toEqual({
      temperature: 0.3,
      maxTokens: 500,
      reasoningEffort: "high",
    });
    const noTemperature = model({ supportedParameters: ["max_tokens", "reasoning"] });
    expect(withParams(draft([], { settings, model: noTemperature })).params).toEqual({
      maxTokens: 500,
      reasoningEffort: "high",
    });
  });

  test("sends none for a chat that is gone", () => {
    expect(withParams(draft([], { model: model({}) })).params).toEqual({});
  });
});

describe("the steps together", () => {
  test("the history, then the instructions, fitted together, with the parameters", () => {
    const history = [
      turn(1, "user", "x".repeat(9000)),
      turn(2, "assistant", "y".repeat(9000)),
      turn(3, "user", "now?"),
    ];
    const settings = { ...NO_SETTINGS, systemPrompt: "Be brief.", temperature: 1 };
    const d = compose(
      draft(history, { settings, model: model({ contextLength: 4000, supportedParameters: ["temperature"] }) }),
    );
    // The prompt was added before fitting, so the fit counted it and kept it.
    expect(d.messages).toEqual([
      { role: "system", content: "Be brief." },
      { role: "user", content: "now?" },
    ]);
    expect(d.params).toEqual({ temperature: 1 });
  });

  test("a capability is one more step: it sees what the steps before it built", () => {
    const seen: string[][] = [];
    const tagged: Step = (d) => {
      seen.push(d.messages.map((m) => m.role));
      return { ...d, messages: [...d.messages, { role: "user", content: "(from a new step)" }] };
    };
    const d = compose(draft([turn(1, "user", "hi")], { settings: { ...NO_SETTINGS, systemPrompt: "P" } }), [
      ...STEPS,
      tagged,
    ]);
    expect(seen).toEqual([["system", "user"]]);
    expect(d.messages.at(-1)).toEqual({ role: "user", content: "(from a new step)" });
  });
});
