import { expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { chats, messages } from "../../src/db/schema.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

const CODE = 'def area(r):\n    return 3.14159 * r ** 2  # "<b>"';
/** Math first, then code, then a long paragraph: the answer is still streaming while both are checked. */
const ANSWER = [
  "The area of a circle is $A = \\pi r^2$, and a half is $\\frac{1}{2}$. It costs $5 and $10.",
  "",
  "$$",
  "x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}",
  "$$",
  "",
  "\\[ M = \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} \\]",
  "",
  "```python",
  CODE,
  "```",
  "",
  `That is all. ${"More words to stream while the page is checked. ".repeat(40)}`,
].join("\n");

type Box = { top: number; bottom: number; left: number; right: number; height: number; width: number };
const box = async (locator: Locator): Promise<Box> => {
  const b = (await locator.boundingBox())!;
  return { top: b.y, bottom: b.y + b.height, left: b.x, right: b.x + b.width, height: b.height, width: b.width };
};

browserSuite("pglite", "math and code blocks in answers, in Chromium", { shots: "math-and-code" }, (s, t) => {
  const open = (viewport: (typeof SIZES)[keyof typeof SIZES], scheme: "light" | "dark") =>
    s.open({
      viewport,
      scheme,
      clipboard: true,
      // Everything the page's CSP refused: KaTeX's inline styles would be, were they sent as such.
      prepare: (context) =>
        context.addInitScript(() => {
          const w = window as unknown as { refused: string[] };
          w.refused = [];
          document.addEventListener("securitypolicyviolation", (e) =>
            w.refused.push(`${e.violatedDirective} ${e.sample}`),
          );
        }),
    });
  const refused = (page: Page) => page.evaluate(() => (window as unknown as { refused: string[] }).refused);

  /**
   * Checks the formulas are laid out as math, not as letters run together or piled on each other:
   * what KaTeX's style attributes do, which the page's CSP would refuse if they were sent as such.
   * KaTeX stacks the parts of a fraction, a script or a matrix column in a `.vlist`, each part
   * a span holding a strut and the part itself.
   */
  const expectLaidOut = async (answer: Locator) => {
    const part = (vlist: Locator, n: number) =>
      box(vlist.locator(":scope > span").nth(n).locator(":scope > span:not(.pstrut)"));
    // A fraction: the numerator above the bar, the denominator below it, neither empty.
    const frac = answer.locator(".katex-html .mfrac").first().locator(".vlist").first();
    const [denominator, line, numerator] = [await part(frac, 0), await part(frac, 1), await part(frac, 2)];
    expect(Math.min(numerator.height, denominator.height)).toBeGreaterThan(5);
    expect(numerator.top + numerator.height / 2).toBeLessThan(line.top);
    expect(denominator.top + denominator.height / 2).toBeGreaterThan(line.bottom);
    expect(denominator.top - numerator.top).toBeGreaterThan(numerator.height * 0.8);
    // A superscript: raised, its middle well above its base's.
    const power = answer.locator(".katex-html .msupsub").first();
    const base = await box(power.locator("xpath=preceding-sibling::*[1]"));
    const raised = await part(power.locator(".vlist").first(), 0);
    expect(raised.top + raised.height / 2).toBeLessThan(base.top + base.height / 2 - base.height / 5);
    // A square root draws its sign (an SVG) over the radicand.
    expect((await box(answer.locator(".katex-html .sqrt svg").first())).width).toBeGreaterThan(20);
    // A matrix column: its two entries one above the other.
    const column = answer.locator(".katex-display .mtable .col-align-c").first().locator(".vlist").first();
    const [top, bottom] = [await part(column, 0), await part(column, 1)];
    expect(top.height).toBeGreaterThan(5);
    expect(bottom.top - top.top).toBeGreaterThan(top.height * 0.8);
    // A displayed formula is centred.
    const display = answer.locator(".katex-display").first();
    const [outer, inner] = [await box(display), await box(display.locator(".katex-html"))];
    expect(Math.abs(inner.left - outer.left - (outer.right - inner.right))).toBeLessThan(4);
    // Screen readers get MathML for every formula: two inline, two displayed, and no more.
    expect(await answer.locator(".katex-mathml math").count()).toBe(4);
    expect(await answer.locator(".katex-mathml annotation").first().textContent()).toBe("A = \\pi r^2");
    await expect(answer.textContent()).resolves.toContain("It costs $5 and $10.");
    expect(await answer.locator("[data-katex-style]").count()).toBe(0);
  };

  /** Copies the code block's code with its bar's button, checks the button says so, returns the clipboard. */
  const copyCode = async (page: Page, answer: Locator) => {
    const bar = answer.locator(".code-bar");
    const button = bar.getByRole("button", { name: "Copy code" });
    await page.evaluate(() => navigator.clipboard.writeText("(nothing copied)"));
    const held = (await button.elementHandle())!;
    expect(await held.getAttribute("aria-live")).toBe("polite");
    await held.focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction((el) => el.textContent === "Copied", held);
    return page.evaluate(() => navigator.clipboard.readText());
  };

  test("a streamed answer's math is typeset as it closes and its code has a bar with Copy (desktop, light)", async () => {
    const { page, problems } = await open(SIZES.desktop, "light");
    await page.goto(s.server.url);
    s.fake.queue({ text: ANSWER, tokenDelayMs: 20, tokenSize: 6 });
    await page.getByLabel("Message").fill("Math and code, please");
    await page.getByLabel("Message").press("Enter");
    const answer = page.locator('article[data-role="assistant"]');

    // While it streams: typeset math and the code's bar are already there, laid out.
    const streaming = answer.and(page.locator('[data-status="streaming"]'));
    await streaming.locator(".code-bar").waitFor();
    await streaming.locator(".katex-display .mtable").waitFor();
    expect(await streaming.count()).toBe(1);
    await expectLaidOut(streaming);
    expect(await answer.locator(".code-bar .code-language").textContent()).toBe("python");
    await s.shot(page, "streaming-desktop-light");
    // A half-written formula never shows KaTeX's error box.
    expect(await answer.locator(".katex-error").count()).toBe(0);

    await answer.and(page.locator('[data-status="complete"]')).waitFor();
    await expectLaidOut(answer);
    // The bar sits above the code, not over its first line.
    const pre = answer.locator(".code-block pre");
    expect((await box(answer.locator(".code-bar"))).bottom).toBeLessThanOrEqual((await box(pre)).top + 1);
    expect(await copyCode(page, answer)).toBe(CODE);
    expect(await answer.locator("pre code").textContent()).toBe(`${CODE}\n`);
    await answer.locator(".code-bar").getByRole("button", { name: "Copy code" }).waitFor();
    await answer.locator(".katex-display").first().scrollIntoViewIfNeeded();
    await s.shot(page, "complete-desktop-light");

    expect(await refused(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  test("on a phone in dark mode the chat, reloaded, lays out the same math and copies the code", async () => {
    const { page, problems } = await open(SIZES.phone, "dark");
    s.fake.queue({ text: ANSWER, tokenDelayMs: 1, tokenSize: 40 });
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("Math and code, on a phone");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await page.reload();
    const answer = page.locator('article[data-role="assistant"]');
    await answer.locator(".katex").first().waitFor();
    await expectLaidOut(answer);
    // The bar's Copy is a proper touch target, and the bar fits the phone's width.
    const button = await box(answer.locator(".code-bar button"));
    expect(button.height).toBeGreaterThanOrEqual(24);
    expect((await box(answer.locator(".code-bar"))).right).toBeLessThanOrEqual(SIZES.phone.width);
    expect(await copyCode(page, answer)).toBe(CODE);
    await answer.locator(".katex-display").first().scrollIntoViewIfNeeded();
    await s.shot(page, "complete-phone-dark");
    // The other pairings, for people to look at.
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await answer.locator(".code-block").scrollIntoViewIfNeeded();
        await s.shot(page, `code-${size}-${scheme}`);
      }
    }
    await page.setViewportSize(SIZES.phone);

    // The read-only share page shows the same typeset math (its page has the same CSP).
    await page.getByRole("button", { name: "Chat actions" }).click(); // the phone's ⋯ menu
    await page.getByRole("button", { name: "Share", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Share this chat" });
    await dialog.getByRole("button", { name: "Create a link" }).click();
    const link = await dialog.getByLabel("Your new link").inputValue();
    const { page: reader } = await s.open({ person: null });
    const readerRefused: string[] = [];
    reader.on("console", (m) => m.type() === "error" && readerRefused.push(m.text()));
    await reader.goto(link);
    const shared = reader.locator('article[data-role="assistant"]');
    await expectLaidOut(shared);
    expect(await shared.locator(".code-bar .code-language").textContent()).toBe("python");
    await shared.locator(".katex-display").first().scrollIntoViewIfNeeded();
    await s.shot(reader, "shared-desktop-light");
    expect(readerRefused).toEqual([]);

    expect(await refused(page)).toEqual([]);
    expect(problems).toEqual([]);
  });

  test("an answer stored before code blocks had their bar gets the same bar on the page", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Stored earlier", model: "fake/fast" })
      .returning();
    // The HTML the renderer stored before: the code block bare.
    const html = '<p>Old:</p>\n<pre><code class="language-js">const old = 1;\n</code></pre>\n';
    const question = Bun.randomUUIDv7();
    await t.database.db.insert(messages).values([
      { id: question, chatId: chat!.id, role: "user", content: "old question" },
      {
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        parentId: question,
        role: "assistant",
        content: "Old:\n```js\nconst old = 1;\n```",
        html,
      },
    ]);
    const { page, problems } = await open(SIZES.phone, "light");
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    const answer = page.locator('article[data-role="assistant"]');
    await answer.locator(".code-bar").waitFor();
    expect(await answer.locator(".code-bar span").textContent()).toBe("js");
    expect(await answer.locator(".code-block").count()).toBe(1);
    expect(await copyCode(page, answer)).toBe("const old = 1;");
    await s.shot(page, "stored-earlier-phone-light");
    expect(problems).toEqual([]);
  });
});
