import { describe, expect, test } from "bun:test";
import { renderMarkdown, splitFinishedBlocks, tailGrowth } from "../../src/chat/markdown.ts";
import { StreamingMarkdown } from "../../src/chat/streaming-markdown.ts";

const DOCUMENTS: Record<string, string> = {
  prose: "First paragraph\nstill first.\n\nSecond paragraph.\n\n\nThird, after two blank lines.",
  headingsAndQuotes: "# Title\n\nText under it.\n\n## Sub\n\n> quoted\n> more\n\nAfter the quote.",
  tightList: "Intro:\n\n- one\n- two\n- three\n\nOutro.",
  looseList: "- one\n\n- two\n\n- three\n\nAfter.",
  orderedContinued: "1. first\n\n2. second\n\n3. third\n\nEnd.",
  secondParagraphInItem: "- item\n\n  its second paragraph\n- next item\n\nEnd.",
  fenceWithBlankLines: "Code:\n\n```python\ndef f():\n\n    return 1\n\n\nprint(f())\n```\n\nAfter the code.",
  fenceInList: "1. Step:\n\n   ```sh\n   echo hi\n\n   echo bye\n   ```\n\n2. Next step.\n\nDone.",
  table: "| a | b |\n| --- | --- |\n| 1 | 2 |\n| 3 | 4 |\n\nBelow the table.",
  tildeFence: "~~~\n``` not a close\n\n~~~\n\ntext",
  unclosedFence: "Start\n\n```js\nconst x = 1;\n\nconst y = 2;",
  fencesAndWordsAfter:
    "```ts\nconst a = 1;\n```\nwords right after\n\n```\nb\n```\n\n\n~~~\nc\n~~~\n- a list after\n\n# x\n```\nd",
  mathInline: "Euler: $e^{i\\pi} + 1 = 0$ and \\(a^2+b^2=c^2\\), for $5 and $10.\n\nThen $x$5 and $y$.",
  mathDisplay: "Sum:\n$$\n\\sum_{n=1}^\\infty \\frac{1}{n^2}\n$$\n\nAnd \\[\n\\int_0^1 x\\,dx\n\\]\n\nend $$ open",
  mathInList: "1. first $a$\n\n   $$\n   b\n   $$\n\n2. second \\(c\\)\n\nDone.",
};

describe("Markdown while streaming", () => {
  for (const [name, doc] of Object.entries(DOCUMENTS)) {
    test(`${name}: rendering block by block, one character at a time, ends identical to one render`, () => {
      const md = new StreamingMarkdown();
      let tail = "";
      let rendered = 0;
      for (const ch of doc) {
        const frame = md.push(ch);
        tail = frame.tail;
        rendered += frame.newBlocks.length;
      }
      expect(md.blocks.join("") + tail).toBe(renderMarkdown(doc));
      expect(rendered).toBe(md.blocks.length);
    });
  }

  test("a long answer's finished blocks are rendered once each, not again with every token", () => {
    const doc = Array.from({ length: 200 }, (_, i) => `Paragraph ${i} with some words in it.`).join("\n\n");
    const md = new StreamingMarkdown();
    let largestTail = 0;
    for (let i = 0; i < doc.length; i += 4)
      largestTail = Math.max(largestTail, md.push(doc.slice(i, i + 4)).tail.length);
    // Only the last paragraph stays open: a block ends once the line after its blank line begins.
    expect(md.blocks.length).toBe(199);
    // Each frame re-renders only the open paragraphs: bounded, whatever the answer's length.
    expect(doc.length).toBeGreaterThan(7000);
    expect(largestTail).toBeLessThan(120);
  });

  test("a tail that grew by text alone is sent as that text and how deep it goes; anything else is not", () => {
    expect(tailGrowth("<p>one two</p>\n", "<p>one two three</p>\n")).toEqual({ append: " three", depth: 1 });
    expect(tailGrowth("<ul>\n<li>a</li>\n</ul>\n", "<ul>\n<li>ab</li>\n</ul>\n")).toEqual({ append: "b", depth: 2 });
    expect(tailGrowth("<p>a</p>\n", "<p>a &lt;b&gt; &amp;</p>\n")).toEqual({ append: " &lt;b&gt; &amp;", depth: 1 });
    expect(tailGrowth("<pre><code>x\n</code></pre>\n", "<pre><code>x\ny\n</code></pre>\n")).toEqual({
      append: "y\n",
      depth: 2,
    });
    // Whole inline elements: highlighted code, emphasis and inline code in a paragraph.
    const code = (inner: string) => `<pre><code class="hljs language-ts">${inner}</code></pre>\n`;
    expect(
      tailGrowth(
        code("x\n"),
        code('x\n<span class="hljs-keyword">const</span> <span class="hljs-title function_">f</span>'),
      ),
    ).toEqual({
      append: '<span class="hljs-keyword">const</span> <span class="hljs-title function_">f</span>',
      depth: 2,
    });
    expect(tailGrowth("<p>a</p>\n", "<p>a <em>b</em> and <code>c</code><br>\nd</p>\n")).toEqual({
      append: " <em>b</em> and <code>c</code><br>\nd",
      depth: 1,
    });
    // Elements that would parse otherwise where htmx reads them, or would need the page's scripts.
    expect(tailGrowth("<p>a</p>\n", '<p>a <a href="https://x.y">x</a></p>\n')).toBeUndefined();
    expect(
      tailGrowth("<table><tbody></tbody></table>\n", "<table><tbody><tr><td>a</td></tr></tbody></table>\n"),
    ).toBeUndefined();
    expect(tailGrowth("<p>a</p>\n", '<p>a <span style="x">b</span></p>\n')).toBeUndefined();
    expect(tailGrowth("<p>a</p>\n", "<p>a <em>b</p>\n")).toBeUndefined();
    // Emphasis that closed, a new list item, a void element at the end, text that shrank.
    expect(tailGrowth("<p>a *b</p>\n", "<p>a <em>b</em></p>\n")).toBeUndefined();
    expect(tailGrowth("<ul>\n<li>a</li>\n</ul>\n", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>\n")).toBeUndefined();
    expect(tailGrowth("<p>a</p>\n<hr>\n", "<p>a</p>\n<hr>\nb")).toBeUndefined();
    expect(tailGrowth("<p>a b</p>\n", "<p>a</p>\n")).toBeUndefined();
  });

  for (const [name, doc] of Object.entries(DOCUMENTS)) {
    test(`${name}: applying each frame's growth to the tail gives the re-rendered tail`, () => {
      const md = new StreamingMarkdown();
      let shown = "";
      let grown = 0;
      for (let i = 0; i < doc.length; i += 3) {
        const { newBlocks, tail } = md.push(doc.slice(i, i + 3));
        const growth = newBlocks.length ? undefined : tailGrowth(shown, tail);
        if (growth) {
          // What the browser does: the text goes inside the innermost element still open.
          const tags = [...shown.matchAll(/<\/[a-z][a-z0-9]*>\s*/g)].slice(-growth.depth);
          const at = tags[0]!.index!;
          expect(shown.slice(at).replace(/\s/g, "")).toBe(tags.map((m) => m[0].trim()).join(""));
          shown = shown.slice(0, at) + growth.append + shown.slice(at);
          grown++;
        } else shown = tail;
        expect(shown).toBe(tail);
      }
      if (name === "prose") expect(grown).toBeGreaterThan(5);
    });
  }

  test("words added without rendering give, at every step, exactly what rendering would", () => {
    const tricky = {
      ...DOCUMENTS,
      words: "Plain words, one after another, don't need rendering at all\nsecond line of it  and more",
      linkLater: "see example.com or www.example or me@example.com now and http://x.y later",
      emphasisLater: "an *open star and _under_score then**bold** words a*b*c",
      // (Blocks render alone, so a definition never reaches a link in another block until the
      // answer ends and is rendered whole: here only the open tail is compared.)
      definition: "[foo]: bar\n\n[foo] and words\n\nmore [baz] then\n# Title\n[qux]: quux\nwords after",
      entity: "an &copy; sign and &#123; and &amp and \\escaped words",
      setext: "a heading\n==\n\npara\n--\nmore words here",
      lazy: "para\n    lazy continued words\n> quote\nlazy words",
      trailing: "words with spaces at the end   \n\nnext para   words",
      unicode: "Grüße, ünïcödé wörds and 日本語 and emoji 🌍 here",
      // Code blocks being written grow by their new code (src/chat/open-fence.ts).
      typescript:
        "Here:\n\n```ts\n/**\n * Doc & <b>\n */\nexport function f(a: number): string {\n  const s = `x $" +
        "{a}\n  y`; // c\n  /* open\n   still */ return s;\n}\n\t\n  \n```\n\nAfter.",
      python: "```python\ndef f():\n    '''doc\n    more'''\n    return \"a\\\"b\"  # hash\n\n\nprint(f())\n```\nx",
      json: '```json\n{\n  "a": [1, 2.5e3, true, null],\n  "b": "s\\n"\n}\n```',
      plainFences:
        "```\n<script>x</script> &amp;\n```\n\n```nosuchlanguage\nsome code\n  more\n```\n\n~~~\n```ts\nnot a close\n~~~\nend",
      closingLike: "````md\n```ts\ninner\n```\n````\n\n```ts & co\nconst a = 1;\n```\n```bash\necho hi\n  ```  \ntext",
      oddBytes: "```ts\nconst a = 1;\r\nconst b = 2;\n\u0000\nconst c = 3;\n",
      // Longer than the words after which the paragraph's HTML is taken from the tail again.
      long: Array.from({ length: 400 }, (_, i) => (i % 9 ? `word${i}` : `w${i}, `)).join(" "),
    };
    for (const [name, doc] of Object.entries(tricky)) {
      for (const size of [1, 2, 3, 5, 8]) {
        const md = new StreamingMarkdown();
        let fast = 0;
        for (let i = 0; i < doc.length; i += size) {
          const { tail, grown } = md.push(doc.slice(i, i + size));
          if (grown !== undefined) fast++;
          expect({ name, size, at: i, html: tail }).toEqual({ name, size, at: i, html: renderMarkdown(md.openText) });
        }
        if (name === "words" && size > 1) expect(fast).toBeGreaterThan(5);
        // Taken from the tail again, it keeps growing: every push after the first word is a growth.
        if (name === "long") expect(fast).toBeGreaterThan(Math.ceil(doc.length / size) - 10 / size);
      }
    }
  });

  test("a long code block is highlighted as it grows, not again from its first line with every frame", async () => {
    const hljs = (await import("highlight.js/lib/core")).default;
    const highlight = hljs.highlight;
    let highlighted = 0;
    hljs.highlight = ((code: string, options: { language: string }) => {
      highlighted += code.length;
      return highlight(code, options);
    }) as typeof hljs.highlight;
    try {
      const lines = Array.from({ length: 400 }, (_, i) => `  const v${i} = compute(${i}, "s${i}"); // step ${i}`);
      const doc = `Code:\n\n\`\`\`ts\nfunction all() {\n${lines.join("\n")}\n}\n\`\`\`\n\nDone.`;
      const md = new StreamingMarkdown();
      for (let i = 0; i < doc.length; i += 16) md.push(doc.slice(i, i + 16));
      // Each piece of code is highlighted a few times (its line while written, then the lines
      // once), and the block once more whole when it closes: not the block so far every frame.
      expect(doc.length).toBeGreaterThan(18_000);
      expect(highlighted).toBeLessThan(6 * doc.length);
      expect(md.blocks.join("") + md.tail).toBe(renderMarkdown(doc));
    } finally {
      hljs.highlight = highlight;
    }
  });

  test("nothing is split inside a fence or before an indented continuation; a block ends as soon as it is known", () => {
    expect(splitFinishedBlocks("```\na\n\nb\n").finished).toEqual([]);
    expect(splitFinishedBlocks("- a\n\n  b\nmore").finished).toEqual([]);
    // A block ends once the line after its blank line has begun (not indented), or has ended
    // where a list might go on.
    expect(splitFinishedBlocks("one\n\ntwo\n\nthr").finished).toEqual(["one\n", "two\n"]);
    expect(splitFinishedBlocks("one\n\n").finished).toEqual([]);
    expect(splitFinishedBlocks("one\n\n ").finished).toEqual([]);
    expect(splitFinishedBlocks("- a\n\n2").finished).toEqual([]);
    expect(splitFinishedBlocks("- a\n\n2. b\n\nc").finished).toEqual([]);
    expect(splitFinishedBlocks("- a\n\n2. b\n\nc\n").finished).toEqual(["- a\n\n2. b\n"]);
    expect(splitFinishedBlocks("one\n\ntwo\n\nthree\n").finished).toEqual(["one\n", "two\n"]);
    // A block that is a code fence ends at its closing line; one inside a list item does not end the item.
    expect(splitFinishedBlocks("```ts\na\n```\nwords after").finished).toEqual(["```ts\na\n```"]);
    expect(splitFinishedBlocks("x\n\n```\na\n```\n\n```\nb\n```\nwo").finished).toEqual([
      "x\n",
      "```\na\n```",
      "\n```\nb\n```",
    ]);
    expect(splitFinishedBlocks("- item\n\n  ```\n  a\n  ```\n  more\n").finished).toEqual([]);
  });
});

describe("Markdown is safe", () => {
  const HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    '<svg onload="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    '![x](javascript:alert(1) "t")',
    "```html onload=alert(1)\n<b>x</b>\n```",
    '```"><script>alert(1)</script>\ncode\n```',
    "<a href='javascript:alert(1)'>x</a>",
    "`<script>` then <script>alert(1)</script>",
    "**<img src=x onerror=alert(1)>**",
    "<details open ontoggle=alert(1)>",
    "[x]( javascript:alert(1) )",
  ];
  for (const input of HOSTILE) {
    test(`renders inertly: ${input.slice(0, 50)}`, () => {
      const html = renderMarkdown(input);
      expect(html).not.toMatch(/<(script|iframe|svg|img[^>]*onerror|details|a[^>]*javascript)/i);
      expect(html).not.toMatch(/href="(javascript|vbscript|data):/i);
      expect(html).not.toMatch(/<[^>]+\son\w+=/i);
    });
  }

  test("links open in a new tab without access to the page", () => {
    expect(renderMarkdown("[docs](https://example.com)")).toBe(
      '<p><a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>\n',
    );
  });

  test("code is highlighted when its language is known, escaped either way", () => {
    expect(renderMarkdown("```ts\nconst a = '<b>';\n```")).toContain('<span class="hljs-keyword">const</span>');
    expect(renderMarkdown("```nolang\n<b>x</b>\n```")).toContain("&lt;b&gt;x&lt;/b&gt;");
  });
});

test("every code block, fenced under its bar or indented, can take focus to scroll by keyboard", () => {
  const html = renderMarkdown("```js\nlet x = 1;\n```\n\n    indented\n");
  expect(html.match(/<pre tabindex="0">/g)).toHaveLength(2);
});
