import { expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite } from "../support/e2e.ts";

const FLOWCHART = [
  "flowchart TD",
  "    A[Kettle on] --> B{Water boiling?}",
  "    B -- yes --> C[Pour the tea]",
  "    B -- no --> A",
].join("\n");
const answerWith = (diagram: string) =>
  ["Here is how it goes:", "", "```mermaid", diagram, "```", "", "Enjoy your tea."].join("\n");
/** Not Mermaid: the parser refuses it. */
const BROKEN = "flowchart TD\n    A[open --> --> ]]]";
/** The page's own policy, as src/http/security.ts sets it: the diagrams must not change it. */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

browserSuite("pglite", "Mermaid diagrams in answers, in Chromium", { shots: "diagrams" }, (s, t) => {
  /**
   * A signed-in page; `problems` collects console errors (a CSP refusal is one) from the page and its frames.
   * Drawings are looked at once the socket is open (watchSocket): a page that is current gets nothing on
   * connect, so nothing rebuilds them after that.
   */
  const open = async (viewport: { width: number; height: number }, scheme: "light" | "dark") => {
    const { page, problems } = await s.open({ viewport, scheme, clipboard: true, watchSocket: true });
    const requested: string[] = [];
    page.on("request", (r) => requested.push(new URL(r.url()).pathname));
    return { page, problems, requested };
  };
  const send = async (page: Page, text: string) => {
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
  };
  const answers = (page: Page) => page.locator('article[data-role="assistant"]');
  const finished = (page: Page, n: number) => answers(page).nth(n).and(page.locator('[data-status="complete"]'));
  const mermaidRequests = (requested: string[]) => requested.filter((p) => /^\/assets\/mermaid\./.test(p));
  /** The labels of the drawing's nodes, read inside its frame. */
  const nodeLabels = async (page: Page, n: number) => {
    const svg = answers(page).nth(n).frameLocator('iframe[title="Diagram"]').locator("svg");
    // Mermaid's first drawing in a frame takes seconds on a busy machine.
    await svg.locator(".node").first().waitFor({ timeout: 60_000 });
    return (await svg.locator(".node").allTextContents()).map((s) => s.trim()).sort();
  };
  /**
   * Clicks once the page has painted after scrolling the button into view: the frame beside it is
   * another process, and a click sent at once could be routed by where the frame was before the
   * scroll (it reached the frame, not the button).
   */
  const click = async (page: Page, button: Locator) => {
    await button.scrollIntoViewIfNeeded();
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await button.click();
  };

  test("a mermaid block in an answer is drawn; it toggles to its source and copies it; a chat without one loads no Mermaid", async () => {
    const { page, problems, requested } = await open(VIEWPORTS.desktop, "light");
    await page.goto(s.server.url);
    s.fake.queue({ text: "Just words, and `code`:\n\n```js\nlet x = 1;\n```" });
    await send(page, "hello");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await finished(page, 0).waitFor();
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
    await page.waitForLoadState("networkidle");
    expect(await page.locator("iframe").count()).toBe(0);
    expect(mermaidRequests(requested)).toEqual([]);

    // While it streams the block is code; once the answer is done it is drawn.
    s.fake.queue({ text: answerWith(FLOWCHART), tokenDelayMs: 15, tokenSize: 4 });
    await send(page, "How do I make tea? Draw it.");
    const answer = answers(page).nth(1);
    // Read in one look at the page: asked in two steps, the answer could end (and be drawn) between them.
    const whileStreaming = await page.waitForFunction(
      () => {
        const a = document.querySelectorAll<HTMLElement>('article[data-role="assistant"]')[1];
        if (a?.dataset.status !== "streaming" || !a.querySelector("pre code.language-mermaid")) return false;
        return { frames: a.querySelectorAll("iframe").length };
      },
      undefined,
      { polling: "raf" },
    );
    expect(await whileStreaming.jsonValue()).toEqual({ frames: 0 });
    await finished(page, 1).waitFor();
    expect(await nodeLabels(page, 1)).toEqual(["Kettle on", "Pour the tea", "Water boiling?"]);
    const pre = answer.locator("pre[data-diagram]");
    await answer.locator('pre[data-diagram="drawn"]').waitFor({ state: "attached" });
    expect(await pre.isVisible()).toBe(false);
    const frame = answer.locator('iframe[title="Diagram"]');
    expect(await frame.getAttribute("sandbox")).toBe("allow-scripts");
    expect((await frame.boundingBox())!.height).toBeGreaterThan(100);
    expect(mermaidRequests(requested)).toHaveLength(1);
    await s.shot(page, "desktop-light");

    await click(page, answer.getByRole("button", { name: "Show source" }));
    expect(await pre.isVisible()).toBe(true);
    expect(await frame.isVisible()).toBe(false);
    expect(await pre.textContent()).toBe(`${FLOWCHART}\n`);
    await s.shot(page, "desktop-light-source");
    await click(page, answer.getByRole("button", { name: "Show diagram" }));
    expect(await frame.isVisible()).toBe(true);
    expect(await pre.isVisible()).toBe(false);

    await page.evaluate(() => navigator.clipboard.writeText("(nothing copied)"));
    const copy = (await answer.getByRole("button", { name: "Copy diagram source" }).elementHandle())!;
    await copy.scrollIntoViewIfNeeded();
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    await copy.click();
    await page.waitForFunction((el) => el.textContent === "Copied", copy);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(FLOWCHART);

    // The page's own policy is as strict as ever; the frame has its own.
    const pageResponse = await page.request.get(page.url());
    expect(pageResponse.headers()["content-security-policy"]).toBe(PAGE_CSP);
    expect(pageResponse.headers()["x-frame-options"]).toBe("DENY");
    expect(problems).toEqual([]);
  });

  test("a block Mermaid cannot read stays as code, with nothing drawn", async () => {
    const { page, problems } = await open(VIEWPORTS.desktop, "light");
    await page.goto(s.server.url);
    s.fake.queue({ text: answerWith(BROKEN) });
    await send(page, "Draw something odd");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await finished(page, 0).waitFor();
    const answer = answers(page).nth(0);
    await answer.locator('pre[data-diagram="failed"]').waitFor();
    expect(await answer.locator(".markdown pre").textContent()).toBe(`${BROKEN}\n`);
    expect(await answer.locator(".markdown pre").isVisible()).toBe(true);
    expect(await answer.locator("iframe").count()).toBe(0);
    expect(await answer.getByRole("button", { name: "Show source" }).count()).toBe(0);
    // Still an ordinary code block, with its own Copy.
    await answer.getByRole("button", { name: "Copy code" }).waitFor();
    await s.shot(page, "failed");
    expect(problems).toEqual([]);
  });

  test("on a phone in dark mode, a chat opened with a diagram draws it in Mermaid's dark theme, fitting the screen", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Tea, drawn", model: "fake/fast" })
      .returning();
    const question = "How do I make tea? Draw it.";
    const content = answerWith(FLOWCHART);
    const asked = Bun.randomUUIDv7();
    await t.database.db.insert(messages).values([
      { id: asked, chatId: chat!.id, role: "user", content: question },
      {
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        parentId: asked,
        role: "assistant",
        content,
        html: renderMarkdown(content),
      },
    ]);
    const { page, problems } = await open(VIEWPORTS.phone, "dark");
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    await page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
    expect(await nodeLabels(page, 0)).toEqual(["Kettle on", "Pour the tea", "Water boiling?"]);
    const answer = answers(page).nth(0);
    await answer.locator('pre[data-diagram="drawn"]').waitFor({ state: "attached" });
    const frame = answer.locator('iframe[title="Diagram"]');
    const box = (await frame.boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    // Dark theme: the nodes are filled dark, their words light.
    const node = answer.frameLocator('iframe[title="Diagram"]').locator(".node").first();
    const lightness = (colour: string) => {
      const [r, g, b] = colour.match(/\d+(\.\d+)?/g)!.map(Number) as [number, number, number];
      return (r + g + b) / 3;
    };
    const fill = await node
      .locator("rect, polygon")
      .first()
      .evaluate((el) => getComputedStyle(el).fill);
    const ink = await node
      .locator(".nodeLabel")
      .first()
      .evaluate((el) => getComputedStyle(el).color);
    expect(lightness(fill)).toBeLessThan(90);
    expect(lightness(ink)).toBeGreaterThan(160);
    await answer.scrollIntoViewIfNeeded();
    await s.shot(page, "phone-dark");
    await click(page, answer.getByRole("button", { name: "Show source" }));
    await answer.getByRole("button", { name: "Show diagram" }).waitFor();
    expect(await answer.locator(".markdown pre").isVisible()).toBe(true);
    await answer.locator(".markdown pre").scrollIntoViewIfNeeded();
    await s.shot(page, "phone-dark-source");
    expect(problems).toEqual([]);
  });
});
