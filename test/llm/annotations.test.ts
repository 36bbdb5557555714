import { describe, expect, test } from "bun:test";
import type OpenAI from "openai";
import {
  type FileAnnotation,
  fileAnnotations,
  keepAnnotations,
  MAX_ANNOTATIONS_BYTES,
} from "../../src/llm/annotations.ts";
import { chunkEvents } from "../../src/llm/chunks.ts";

const parse = (hash: string, text = `text of ${hash}`): FileAnnotation => ({
  type: "file",
  file: { hash, name: `${hash}.pdf`, content: [{ type: "text", text }] },
});

describe("fileAnnotations", () => {
  test("keeps OpenRouter's file annotations with their text and image parts, field by field", () => {
    const image = { type: "image_url" as const, image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } };
    const raw = [
      {
        type: "file",
        file: { hash: "abc", name: "a.pdf", content: [{ type: "text", text: "page 1", extra: 1 }, image], more: true },
      },
      { type: "url_citation", url_citation: { url: "https://example.com", title: "x", start_index: 0, end_index: 1 } },
    ];
    expect(fileAnnotations(raw)).toEqual([
      { type: "file", file: { hash: "abc", name: "a.pdf", content: [{ type: "text", text: "page 1" }, image] } },
    ]);
  });

  test("leaves out whole any annotation of a shape it does not know, and anything that is not a list", () => {
    expect(fileAnnotations(undefined)).toEqual([]);
    expect(fileAnnotations({ type: "file" })).toEqual([]);
    const bad = [
      null,
      "file",
      { type: "file" },
      { type: "file", file: { hash: "", content: [] } },
      { type: "file", file: { hash: 7, content: [] } },
      { type: "file", file: { hash: "h".repeat(201), content: [] } },
      { type: "file", file: { hash: "x", content: "text" } },
      // Half a parse under its hash would stand for the whole PDF.
      {
        type: "file",
        file: {
          hash: "y",
          content: [
            { type: "text", text: "ok" },
            { type: "audio", data: "…" },
          ],
        },
      },
      { type: "file", file: { hash: "z", content: [{ type: "image_url", image_url: {} }] } },
    ];
    expect(fileAnnotations(bad)).toEqual([]);
  });
});

describe("keepAnnotations", () => {
  test("keeps one per hash, the later replacing the earlier", () => {
    expect(keepAnnotations([parse("a"), parse("b")], [parse("a", "again")])).toEqual([parse("a", "again"), parse("b")]);
  });

  test("keeps no more than the limit: an annotation that does not fit is left out whole", () => {
    const big = parse("big", "x".repeat(MAX_ANNOTATIONS_BYTES));
    expect(keepAnnotations([parse("a")], [big, parse("c")])).toEqual([parse("a"), parse("c")]);
  });
});

describe("chunkEvents", () => {
  test("reads file annotations from a streamed delta, as OpenRouter sends them", () => {
    const chunk = {
      id: "gen-1",
      object: "chat.completion.chunk",
      created: 1,
      model: "m",
      choices: [
        { index: 0, delta: { role: "assistant", content: "", annotations: [parse("a")] }, finish_reason: null },
      ],
    } as unknown as OpenAI.Chat.Completions.ChatCompletionChunk;
    expect([...chunkEvents(chunk)]).toEqual([{ type: "annotations", annotations: [parse("a")] }]);
  });
});
