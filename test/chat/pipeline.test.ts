import { describe, expect, test } from "bun:test";
import {
  branchHistory,
  compose,
  type Draft,
  fitImages,
  fitToModel,
  PROJECT_FILES_INTRO,
  STEPS,
  type Step,
  withAttachments,
  withInstructions,
  withParams,
  withParses,
  withProjectFiles,
  withProjectInstructions,
} from "../../src/chat/pipeline.ts";
import type { Turn } from "../../src/chat/repos/exchange.ts";
import { NO_SETTINGS } from "../../src/chat/settings.ts";
import type { Message } from "../../src/db/schema.ts";
import type { FileAnnotation } from "../../src/llm/annotations.ts";
import type { ContentPart, Model } from "../../src/llm/openrouter.ts";

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
  projectInstructions: null,
  files: new Map(),
  projectFiles: [],
  parses: new Map(),
  messages: [],
  params: {},
  webSearch: undefined,
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
      { role: "user", content: "first", messageId: "00000001" },
      { role: "assistant", content: "a complete answer", messageId: "00000002" },
      { role: "user", content: "second", messageId: "00000003" },
      { role: "assistant", content: "a stopped answer", messageId: "00000004" },
      { role: "user", content: "third", messageId: "00000005" },
      { role: "user", content: "fourth", messageId: "00000007" },
      { role: "user", content: "fifth", messageId: "00000009" },
    ]);
  });

  test("stops at the answer being written: a regenerated answer is not sent its own older sibling's words", () => {
    const history = [turn(1, "user", "question"), turn(2, "assistant", "old answer")];
    const fresh = { ...answer(2), id: "00000002" };
    expect(branchHistory(draft(history, { answer: fresh })).messages).toEqual([
      { role: "user", content: "question", messageId: "00000001" },
    ]);
  });

  test("leaves out empty messages", () => {
    const history = [turn(1, "user", "q"), turn(2, "assistant", "", "stopped"), turn(3, "user", "again")];
    expect(branchHistory(draft(history)).messages.map((m) => m.content)).toEqual(["q", "again"]);
  });
});

describe("withAttachments", () => {
  const image = { id: "f1", name: "a.png", size: 3, type: "image/png" as const, bytes: new Uint8Array([1, 2, 3]) };
  const paper = { id: "f2", name: "b.pdf", size: 2, type: "application/pdf" as const, bytes: new Uint8Array([4, 5]) };
  const notes = {
    id: "f3",
    name: "c.txt",
    size: 5,
    type: "text/plain" as const,
    bytes: new TextEncoder().encode("hi ``"),
  };
  const history = [turn(1, "user", "look"), turn(2, "assistant", "ok"), turn(3, "user", "again")];
  const files = new Map([["00000001", [image, paper, notes]]]);

  test("puts each message's files after its text: images as data URLs, PDFs as files, text inline under its name", () => {
    const d = withAttachments(
      branchHistory(draft(history, { files, model: model({ inputModalities: ["text", "image"] }) })),
    );
    expect(d.messages[0]!.content).toEqual([
      { type: "text", text: "look" },
      { type: "text", text: "Attached image “a.png”:" },
      { type: "image_url", image_url: { url: "data:image/png;base64,AQID" } },
      { type: "file", file: { filename: "b.pdf", file_data: "data:application/pdf;base64,BAU=" } },
      { type: "text", text: "Attached file “c.txt”:\n```\nhi ``\n```" },
    ]);
    expect(d.messages.slice(1).map((m) => m.content)).toEqual(["ok", "again"]);
    expect(d.notices).toEqual([]);
  });

  test("for a model that cannot see images, says where each was and tells the person", () => {
    const d = withAttachments(
      branchHistory(draft(history, { files, model: model({ name: "Words", inputModalities: ["text"] }) })),
    );
    expect(d.messages[0]!.content).toContainEqual({
      type: "text",
      text: "(The image “a.png” was attached here; this model cannot see images.)",
    });
    expect(JSON.stringify(d.messages)).not.toContain("image_url");
    expect(d.notices).toEqual(["Words cannot see images: 1 image was left out of this answer's request."]);
  });

  test("sends images when the model's reading is unknown", () => {
    const d = withAttachments(branchHistory(draft(history, { files })));
    expect(JSON.stringify(d.messages)).toContain("image_url");
  });
});

describe("fitImages", () => {
  const picture = { type: "image_url" as const, image_url: { url: "data:image/png;base64,AAAA" } };
  const turns = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      role: "user" as const,
      content: [{ type: "text" as const, text: `turn ${i}` }, picture],
    }));

  test("leaves out the oldest images first while the request is over the context, never the newest message's", () => {
    // Four images of 1,600 tokens each; the budget (8,000 less 2,000 for the answer) holds three.
    const d = fitImages(draft([], { messages: turns(4), model: model({ name: "Small", contextLength: 8000 }) }));
    const kept = d.messages.map((m) => JSON.stringify(m.content).includes("image_url"));
    expect(kept).toEqual([false, true, true, true]);
    expect(d.messages[0]!.content).toContainEqual({ type: "text", text: "turn 0" });
    expect(d.notices).toEqual([
      "This conversation is long for Small: 1 older image was left out of this answer's request.",
    ]);
  });

  test("changes nothing when the request fits, or the context is unknown", () => {
    const messages = turns(4);
    expect(fitImages(draft([], { messages, model: model({ contextLength: 200000 }) })).messages).toEqual(messages);
    expect(fitImages(draft([], { messages })).notices).toEqual([]);
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

  test("asks a model that draws for images as well as words, and no other", () => {
    const draws = model({ outputModalities: ["image", "text"] });
    expect(withParams(draft([], { model: draws })).params).toEqual({ modalities: ["image", "text"] });
    expect(withParams(draft([], { model: model({ outputModalities: ["text"] }) })).params).toEqual({});
  });

  test("sends none for a chat that is gone", () => {
    expect(withParams(draft([], { model: model({}) })).params).toEqual({});
  });

  const pdfPart: ContentPart = {
    type: "file",
    file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" },
  };
  const withPdf = [{ role: "user" as const, content: [{ type: "text" as const, text: "read this" }, pdfPart] }];

  test("a request with a PDF says how to read it: text extraction unless the chat chose otherwise", () => {
    expect(withParams(draft([], { messages: withPdf, settings: NO_SETTINGS })).params).toEqual({ pdfEngine: "text" });
    expect(withParams(draft([], { messages: withPdf })).params).toEqual({ pdfEngine: "text" });
    for (const pdfEngine of ["ocr", "native"] as const) {
      const settings = { ...NO_SETTINGS, pdfEngine };
      expect(withParams(draft([], { messages: withPdf, settings })).params).toEqual({ pdfEngine });
    }
  });

  test("a chat set to the model's own reading, whose model now cannot read files, gets text extraction, and is told", () => {
    const settings = { ...NO_SETTINGS, pdfEngine: "native" as const };
    const blind = model({ name: "Words Only", inputModalities: ["text"] });
    const done = withParams(draft([], { messages: withPdf, settings, model: blind }));
    expect(done.params).toEqual({ pdfEngine: "text" });
    expect(done.notices).toEqual(["Words Only cannot read PDFs itself: text extraction read them for this answer."]);
    const reader = model({ inputModalities: ["text", "file"] });
    const kept = withParams(draft([], { messages: withPdf, settings, model: reader }));
    expect([kept.params, kept.notices]).toEqual([{ pdfEngine: "native" }, []]);
  });

  test("a request without a PDF names no engine, whatever the chat chose", () => {
    const settings = { ...NO_SETTINGS, pdfEngine: "ocr" as const };
    const messages = [{ role: "user" as const, content: "no files" }];
    expect(withParams(draft([], { messages, settings })).params).toEqual({});
  });
});

describe("withParses", () => {
  const parse = (hash: string): FileAnnotation => ({
    type: "file",
    file: { hash, name: "a.pdf", content: [{ type: "text", text: `parsed ${hash}` }] },
  });
  const messages = [
    { role: "user" as const, content: "read a.pdf", messageId: "00000001" },
    { role: "assistant" as const, content: "it says x", messageId: "00000002" },
    { role: "user" as const, content: "and b.pdf?", messageId: "00000003" },
    { role: "assistant" as const, content: "it says y", messageId: "00000004" },
    { role: "user" as const, content: "compare them", messageId: "00000005" },
  ];
  const parses = new Map([
    ["00000002", { engine: "text" as const, files: [parse("a")] }],
    ["00000004", { engine: "ocr" as const, files: [parse("b")] }],
  ]);

  test("puts each earlier answer's parse on it when the request reads PDFs with the engine that made it", () => {
    const d = withParses(draft([], { messages, parses, params: { pdfEngine: "text" } }));
    expect(d.messages[1]).toEqual({ ...messages[1]!, annotations: [parse("a")] });
    // Made by OCR: a text request does not pass it off as its own reading.
    expect(d.messages[3]).toEqual(messages[3]!);
    const ocr = withParses(draft([], { messages, parses, params: { pdfEngine: "ocr" } }));
    expect(ocr.messages.map((m) => m.annotations)).toEqual([undefined, undefined, undefined, [parse("b")], undefined]);
  });

  test("sends none with a request that carries no PDF (no engine), nor on a message that is not an answer", () => {
    expect(withParses(draft([], { messages, parses })).messages).toEqual(messages);
    const onQuestion = new Map([["00000001", { engine: "text" as const, files: [parse("a")] }]]);
    const d = withParses(draft([], { messages, parses: onQuestion, params: { pdfEngine: "text" } }));
    expect(d.messages).toEqual(messages);
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
      { role: "user", content: "now?", messageId: "00000003" },
    ]);
    expect(d.params).toEqual({ temperature: 1 });
  });

  test("a project's instructions go first, before the chat's own system prompt, and are kept by the fit", () => {
    const history = [
      turn(1, "user", "x".repeat(9000)),
      turn(2, "assistant", "y".repeat(9000)),
      turn(3, "user", "now?"),
    ];
    const settings = { ...NO_SETTINGS, systemPrompt: "Be brief." };
    const d = compose(
      draft(history, {
        settings,
        projectInstructions: "You help with the garden.",
        model: model({ contextLength: 4000 }),
      }),
    );
    expect(d.messages).toEqual([
      { role: "system", content: "You help with the garden." },
      { role: "system", content: "Be brief." },
      { role: "user", content: "now?", messageId: "00000003" },
    ]);
    // Outside a project (or a project without instructions) the step adds nothing.
    const plain = draft([turn(1, "user", "hi")]);
    expect(withProjectInstructions(branchHistory(plain)).messages).toEqual([
      { role: "user", content: "hi", messageId: "00000001" },
    ]);
  });

  test("a project's files go after its instructions, before the chat's messages, and are kept by the fit while older turns go", () => {
    const text = (id: string, name: string, body: string) => ({
      id,
      name,
      size: body.length,
      type: "text/plain" as const,
      bytes: new TextEncoder().encode(body),
    });
    const history = [
      turn(1, "user", "x".repeat(9000)),
      turn(2, "assistant", "y".repeat(9000)),
      turn(3, "user", "now?"),
    ];
    const d = compose(
      draft(history, {
        projectInstructions: "You help with the garden.",
        projectFiles: [text("f1", "beds.txt", "Bed A: peas"), text("f2", "seeds.txt", "Seeds: beans")],
        model: model({ contextLength: 4000 }),
      }),
    );
    expect(d.messages).toEqual([
      { role: "system", content: "You help with the garden." },
      {
        role: "user",
        content: [
          { type: "text", text: PROJECT_FILES_INTRO },
          { type: "text", text: "Attached file “beds.txt”:\n```\nBed A: peas\n```" },
          { type: "text", text: "Attached file “seeds.txt”:\n```\nSeeds: beans\n```" },
        ],
        pinned: true,
      },
      { role: "user", content: "now?", messageId: "00000003" },
    ]);
    expect(d.notices).toEqual([]);
  });

  test("a project's files that do not fit are left out, last first, and the person is told which", () => {
    const file = (id: string, name: string, chars: number) => ({
      id,
      name,
      size: chars,
      type: "text/plain" as const,
      bytes: new TextEncoder().encode("z".repeat(chars)),
    });
    // The budget is 3,000 less 750 for the answer: the first file (~1,340 tokens) fits, the second does not.
    const d = withProjectFiles(
      branchHistory(
        draft([turn(1, "user", "hi")], {
          projectFiles: [file("f1", "one.txt", 4000), file("f2", "two.txt", 4000), file("f3", "three.txt", 10)],
          model: model({ name: "Tiny", contextLength: 3000 }),
        }),
      ),
    );
    const sent = JSON.stringify(d.messages);
    expect(sent).toContain("one.txt");
    expect(sent).not.toContain("two.txt");
    // After one left out, the rest go too: the files keep their order, never a later one without an earlier.
    expect(sent).not.toContain("three.txt");
    expect(d.notices).toEqual([
      "Too long for Tiny with all the project's files: “two.txt”, “three.txt” were left out of this answer's request.",
    ]);
    // None fit: no message of files at all, and all are named.
    const none = withProjectFiles(
      branchHistory(
        draft([turn(1, "user", "hi")], {
          projectFiles: [file("f1", "one.txt", 9000)],
          model: model({ name: "Tiny", contextLength: 3000 }),
        }),
      ),
    );
    expect(none.messages).toEqual([{ role: "user", content: "hi", messageId: "00000001" }]);
    expect(none.notices).toEqual([
      "Too long for Tiny with all the project's files: “one.txt” was left out of this answer's request.",
    ]);
    // Outside a project the step adds nothing.
    const plain = branchHistory(draft([turn(1, "user", "hi")]));
    expect(withProjectFiles(plain)).toEqual(plain);
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
