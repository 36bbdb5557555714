import { expect, test } from "bun:test";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { startRenderer } from "../../src/transfer/renderer.ts";

// An import's answers are rendered on a worker thread (src/transfer/renderer.ts).

const SLOW = `${"[".repeat(100_000)} ${"*a _b ".repeat(20_000)}`; // about half a second to render here

test("an import's answers render as an answer's end renders them, on a thread of its own: the event loop turns meanwhile", async () => {
  const texts = [
    "# Title\n\nSome **bold**, a [link](https://example.com) and `code`.",
    "```ts\nconst x: number = 1;\n```",
    "<script>alert(1)</script> [x](javascript:alert(1)) ![img](https://evil.example/?q=secret)",
    "",
    SLOW,
  ];
  const renderer = startRenderer();
  try {
    let turns = 0;
    let rendering = true;
    const counting = (async () => {
      while (rendering) {
        await new Promise((resolve) => setImmediate(resolve));
        turns++;
      }
    })();
    const html = await renderer.render(texts);
    rendering = false;
    await counting;
    // Rendered here, the slow answer would hold the loop until done: not one turn.
    expect(turns).toBeGreaterThan(10);
    expect(html).toEqual(texts.map((text) => renderMarkdown(text)));
  } finally {
    renderer.close();
  }
});

test("a render still waiting when the renderer is closed is refused, not left hanging", async () => {
  const renderer = startRenderer();
  const waiting = renderer.render([SLOW]);
  renderer.close();
  await expect(waiting).rejects.toThrow("the import's renderer was closed");
});
