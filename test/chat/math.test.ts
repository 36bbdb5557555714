import { describe, expect, test } from "bun:test";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { StreamingMarkdown } from "../../src/chat/streaming-markdown.ts";

/** The TeX sources of the typeset formulas in `html`, as their MathML annotations carry them. */
const formulas = (html: string) =>
  [...html.matchAll(/<annotation encoding="application\/x-tex">([^<]*)<\/annotation>/g)].map((m) => m[1]);
const typeset = (html: string) => (html.match(/<span class="katex">/g) ?? []).length;

describe("Math in answers", () => {
  test("the four delimiters models write are typeset as HTML plus MathML", () => {
    const html = renderMarkdown("Inline $a^2$ and \\(\\sqrt{b}\\); shown $$\\frac{c}{d}$$ and \\[e_1\\].");
    expect(formulas(html)).toEqual(["a^2", "\\sqrt{b}", "\\frac{c}{d}", "e_1"]);
    expect(html).toContain('<math xmlns="http://www.w3.org/1998/Math/MathML">');
    expect(html).toContain('<span class="katex-html" aria-hidden="true">');
    expect((html.match(/class="katex-display"/g) ?? []).length).toBe(2);
  });

  test("a formula on lines of its own is a block, in a paragraph's stead", () => {
    for (const [open, close] of [
      ["$$", "$$"],
      ["\\[", "\\]"],
    ]) {
      const html = renderMarkdown(`So:\n${open}\n\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}\n${close}\nafter`);
      expect(html).toStartWith('<p>So:</p>\n<div class="math-block"><span class="katex-display">');
      expect(html).toEndWith("</div>\n<p>after</p>\n");
      expect(formulas(html)).toEqual(["\n\\begin{pmatrix} 1 &amp; 2 \\\\ 3 &amp; 4 \\end{pmatrix}\n"]);
    }
  });

  test("dollar amounts stay prose", () => {
    for (const prose of [
      "It costs $5 and $10 with tax.",
      "Between $5-$10 a month.",
      "Was $5, now $4.",
      "A $ sign alone, and $ spaced $ out.",
      "Escaped \\$x\\$ signs.",
      "Then $x$5 stays.",
    ]) {
      expect({ prose, typeset: typeset(renderMarkdown(prose)) }).toEqual({ prose, typeset: 0 });
    }
    // A price before a formula is not swallowed into it.
    expect(formulas(renderMarkdown("Pay $5 and $10 for $x$ units"))).toEqual(["x"]);
    expect(renderMarkdown("Pay $5 and $10 for $x$ units")).toStartWith("<p>Pay $5 and $10 for <span");
  });

  test("code spans and fences keep their dollars and backslashes as written", () => {
    expect(renderMarkdown("Use `$x$` or `\\(y\\)` literally.")).toBe(
      "<p>Use <code>$x$</code> or <code>\\(y\\)</code> literally.</p>\n",
    );
    const fence = renderMarkdown("```tex\n$$\\frac{a}{b}$$\n```");
    expect(typeset(fence)).toBe(0);
    expect(fence).toContain("$$\\frac{a}{b}$$");
  });

  test("a formula KaTeX cannot read shows as its source, escaped, never as an error box", () => {
    for (const [input, shown] of [
      ["Bad $\\frac{a}{$ here", "<p>Bad $\\frac{a}{$ here</p>\n"],
      ["Unknown $\\nosuchcommand < 1$.", "<p>Unknown $\\nosuchcommand &lt; 1$.</p>\n"],
      ["$$\n\\begin{matrix} a\n$$", "<p>$$\n\\begin{matrix} a\n$$</p>\n"],
    ] as const) {
      expect(renderMarkdown(input)).toBe(shown);
    }
  });

  test("while an answer streams, a formula shows as its source until it closes", () => {
    const doc = "The area is $\\pi r^2$ exactly.\n\n$$\n\\int_0^1 x\\,dx = \\frac{1}{2}\n$$\n\nDone.";
    const md = new StreamingMarkdown();
    const seen: number[] = [];
    for (const ch of doc) {
      const { tail } = md.push(ch);
      const shown = md.blocks.join("") + tail;
      expect(shown).not.toContain("katex-error");
      seen.push(typeset(shown));
    }
    const closedInline = doc.indexOf("$ exactly");
    const closedDisplay = doc.lastIndexOf("$$") + 1;
    // Source up to the closing "$", typeset from it on; the display formula once its "$$" line ends.
    expect(seen.slice(0, closedInline)).toEqual(Array(closedInline).fill(0));
    expect(seen[closedInline]).toBe(1);
    expect(seen[closedDisplay - 1]).toBe(1);
    expect(seen.at(-1)).toBe(2);
    expect(md.blocks.join("") + md.tail).toBe(renderMarkdown(doc));
  });

  test("nothing in a formula becomes markup, a link or a style the page would apply", () => {
    for (const tex of [
      "<script>alert(1)</script>",
      '"><img src=x onerror=alert(1)>',
      "\\href{javascript:alert(1)}{click}",
      "\\url{javascript:alert(1)}",
      "\\includegraphics{https://evil.example/x.png}",
      "\\htmlStyle{background:url(https://evil.example/)}{x}",
      "\\htmlData{onload=alert(1)}{x}",
      "\\text{</span><script>alert(1)</script>}",
    ]) {
      for (const md of [`$${tex}$`, `$$\n${tex}\n$$`]) {
        // The MathML annotation carries the source as text (escaped, so never markup); the rest is what shows.
        const html = renderMarkdown(md).replace(/<annotation [^>]*>[^<]*<\/annotation>/g, "");
        expect(html).not.toMatch(/<(script|img|a|iframe)[\s>]/i);
        expect(html).not.toMatch(/javascript:|evil\.example\/x|url\(/i);
        expect(html).not.toMatch(/<[^>]+\s(on\w+|style|href|src)=/i);
      }
    }
  });

  test("KaTeX's style attributes arrive as data-katex-style, for the page's script to apply", () => {
    const html = renderMarkdown("$\\frac{a}{b}$");
    expect(html).toContain('data-katex-style="height:');
    expect(html).not.toContain(" style=");
  });

  test("formulas that would cost the server dearly stay source", () => {
    const macroBomb = `$\\def\\a{${"x".repeat(500)}}${"\\a".repeat(400)}$`;
    const tooLong = `$${"x+".repeat(2500)}x$`;
    const tooDeep = `$${"{".repeat(5000)}x${"}".repeat(5000)}$`;
    for (const input of [macroBomb, tooLong, tooDeep]) expect(typeset(renderMarkdown(input))).toBe(0);
    // Sizes are capped at 20em: a rule cannot cover the page.
    const rule = renderMarkdown("$\\rule{1000em}{1000em}$");
    expect(rule).toContain("border-right-width:20em");
    expect(rule).not.toContain("1000em;");
  });
});

describe("Code blocks", () => {
  test("get a bar with their language and a Copy button, above the code", () => {
    expect(renderMarkdown("```py\nprint(1)\n```")).toBe(
      '<div class="code-block"><div class="code-bar"><span class="code-language">py</span>' +
        '<button type="button" class="copy-code" data-copy-code aria-live="polite">Copy code</button></div>' +
        '<pre tabindex="0"><code class="language-py"><span class="hljs-built_in">print</span>(<span class="hljs-number">1</span>)\n</code></pre>\n</div>\n',
    );
    expect(renderMarkdown("```\nplain\n```")).toStartWith(
      '<div class="code-block"><div class="code-bar"><span></span>',
    );
  });

  test("indented code gets the same bar, without a language, from the server (not only from app.js once shown)", () => {
    expect(renderMarkdown("Run:\n\n    make all\n")).toBe(
      "<p>Run:</p>\n" +
        '<div class="code-block"><div class="code-bar"><span></span>' +
        '<button type="button" class="copy-code" data-copy-code aria-live="polite">Copy code</button></div>' +
        '<pre tabindex="0"><code>make all\n</code></pre>\n</div>\n',
    );
  });

  test("a language name is escaped like the rest", () => {
    const html = renderMarkdown('```"><img/src=x/onerror=alert(1)>\ncode\n```');
    expect(html).toContain('<span class="code-language">&quot;&gt;&lt;img/src=x/onerror=alert(1)&gt;</span>');
    expect(html).not.toMatch(/<img/);
  });
});
