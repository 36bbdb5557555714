import { expect, test } from "bun:test";
import { APIError } from "openai";
import { completionChunks } from "../../src/llm/sse.ts";

const chunk = (content: string) => ({ id: "c", object: "chat.completion.chunk", choices: [{ delta: { content } }] });

/** A response whose body arrives in the given pieces of bytes. */
function response(pieces: Uint8Array[]): Response {
  return new Response(
    new ReadableStream({
      start(controller) {
        for (const piece of pieces) controller.enqueue(piece);
        controller.close();
      },
    }),
  );
}

async function contents(res: Response): Promise<string[]> {
  const out: string[] = [];
  for await (const c of completionChunks(res)) out.push(String(c.choices[0]?.delta.content));
  return out;
}

test("events split anywhere (inside a line, inside a character) read the same as whole", async () => {
  const wire = [
    ": OPENROUTER PROCESSING\n\n",
    `data: ${JSON.stringify(chunk("héllo "))}\n\n`,
    ": OPENROUTER PROCESSING\n\n",
    `data: ${JSON.stringify(chunk("wörld 🌍"))}\n\n`,
    "data: [DONE]\n\n",
  ].join("");
  const bytes = new TextEncoder().encode(wire);
  expect(await contents(response([bytes]))).toEqual(["héllo ", "wörld 🌍"]);
  for (const size of [1, 2, 3, 7, 50]) {
    const pieces: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
    expect(await contents(response(pieces))).toEqual(["héllo ", "wörld 🌍"]);
  }
});

test("CRLF line ends, data split over lines, other fields, and a last event without its blank line", async () => {
  const wire = `event: message\r\nid: 1\r\ndata: ${JSON.stringify(chunk("a")).slice(0, 10)}\r\ndata:${JSON.stringify(chunk("a")).slice(10)}\r\n\r\ndata: ${JSON.stringify(chunk("b"))}`;
  // Joined data lines put a line break inside the JSON, which is whitespace to JSON.
  expect(await contents(response([new TextEncoder().encode(wire)]))).toEqual(["a", "b"]);
});

test("after [DONE] nothing more is read as an answer", async () => {
  const wire = `data: ${JSON.stringify(chunk("x"))}\n\ndata: [DONE]\n\ndata: ${JSON.stringify(chunk("late"))}\n\n`;
  expect(await contents(response([new TextEncoder().encode(wire)]))).toEqual(["x"]);
});

test("an event carrying an error throws the SDK's APIError with the upstream's message", async () => {
  const wire = `data: ${JSON.stringify(chunk("partial"))}\n\ndata: ${JSON.stringify({ error: { message: "Provider overloaded", code: 502 } })}\n\n`;
  const seen: string[] = [];
  const err = await (async () => {
    for await (const c of completionChunks(response([new TextEncoder().encode(wire)])))
      seen.push(String(c.choices[0]?.delta.content));
  })().catch((e) => e);
  expect(seen).toEqual(["partial"]);
  expect(err).toBeInstanceOf(APIError);
  expect((err as APIError).error).toMatchObject({ message: "Provider overloaded" });
});

test("malformed data is an error, not a silent skip", async () => {
  const wire = "data: {not json\n\n";
  await expect(contents(response([new TextEncoder().encode(wire)]))).rejects.toThrow(SyntaxError);
});
