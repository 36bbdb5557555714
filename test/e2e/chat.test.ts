import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats, messages } from "../../src/db/schema.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite, openChatMenu } from "../support/e2e.ts";

const LONG_ANSWER = [
  "# Plan",
  "",
  "Here is **the plan**, step by step:",
  "",
  "1. Read the [docs](https://example.com/docs).",
  "2. Write the code.",
  "",
  "| step | time |",
  "| --- | --- |",
  "| read | 1h |",
  "| write | 2h |",
  "",
  "```python",
  "def greet(name):",
  '    return f"Hello, {name}!"',
  "```",
  "",
  "> Quoted wisdom.",
  "",
  "Done.",
].join("\n");

browserSuite("pglite", "chatting in Chromium", { shots: "chat" }, (s, t) => {
  const lastAnswer = (page: Page) => page.locator('article[data-role="assistant"]').last();
  /** Sends from the new-chat page and waits to land on the chat. */
  const startChat = async (page: Page, text: string) => {
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
  };

  test("new chat → send → the answer grows in steps → final Markdown with highlighted code", async () => {
    s.fake.queue({ text: LONG_ANSWER, tokenDelayMs: 25, tokenSize: 3 });
    const { page, problems } = await s.open();
    await startChat(page, "Make me a plan");
    await expect(page.locator('article[data-role="user"]').first().textContent()).resolves.toContain("Make me a plan");
    const answer = lastAnswer(page);
    const lengths = new Set<number>();
    for (let i = 0; i < 400 && (await answer.getAttribute("data-status")) === "streaming"; i++) {
      lengths.add(((await answer.locator(".markdown").textContent()) ?? "").length);
      if (lengths.size === 4) await s.shot(page, "chat-streaming");
      await page.waitForTimeout(20);
    }
    expect(await answer.getAttribute("data-status")).toBe("complete");
    expect(lengths.size).toBeGreaterThanOrEqual(3);
    // The title the model writes after the first answer becomes the tab's title too.
    await page.waitForFunction(() => document.title === "About Make me · Parley");
    await expect(answer.locator("h1").textContent()).resolves.toBe("Plan");
    await expect(answer.locator("table td").count()).resolves.toBe(4);
    await expect(answer.locator("pre code .hljs-keyword").first().textContent()).resolves.toBe("def");
    const link = answer.getByRole("link", { name: "docs" });
    expect(await link.getAttribute("target")).toBe("_blank");
    expect(await link.getAttribute("rel")).toContain("noopener");
    await expect(answer.getByRole("button", { name: "Regenerate" }).isVisible()).resolves.toBe(true);
    await expect(page.locator('[role="log"]').count()).resolves.toBe(1);
    await expect(page.getByRole("button", { name: "Send" }).isVisible()).resolves.toBe(true);
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await s.shot(page, `chat-${width}-${scheme}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("words and inline markup appended to the open paragraph, list item, quote or code land where a full render puts them", async () => {
    const { page, problems } = await s.open();
    await startChat(page, "warm up");
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor();
    // Just before the finished answer replaces the streamed one, keep what the frames built.
    await page.evaluate(() => {
      const seen = { appended: 0, appendedMarkup: 0, streamed: "" };
      (window as unknown as { seen: typeof seen }).seen = seen;
      document.addEventListener("htmx:wsBeforeMessage", (event) => {
        const message = (event as CustomEvent<{ message: string }>).detail.message;
        const appended = /hx-swap-oob="beforeend:#msg-[^"]*">(.*)<\/div>/s.exec(message)?.[1];
        if (appended !== undefined) seen.appended++;
        if (appended?.includes("<span") || appended?.includes("<code>")) seen.appendedMarkup++;
        const id =
          /<article id="msg-([0-9a-f-]+)" hx-swap-oob="true" data-role="assistant" data-status="(?!streaming)/.exec(
            message,
          )?.[1];
        const blocks = id && document.getElementById(`msg-${id}-blocks`);
        const tail = id && document.getElementById(`msg-${id}-tail`);
        if (blocks && tail) seen.streamed = blocks.innerHTML + tail.innerHTML;
      });
    });
    const text = [
      "A first paragraph that goes on for a while, word after word, so that it grows over many frames.",
      "",
      "- a list item that keeps growing for quite a few more words",
      "- and a second item, also long enough to grow",
      "",
      "> a quote that grows word by word as well, for a while",
      "",
      "    indented code that grows",
      "    line by line",
      "",
      "A paragraph with *emphasis*, `inline code` and **bold** words that keeps going for a while.",
      "",
      "```ts",
      "const total = items.reduce((sum, item) => sum + item.price, 0);",
      "export function greet(name: string): string {",
      "  return 'Hello, ' + name; // a comment",
      "}",
      "const names = ['ann', 'bob', 'cy'].map((n) => greet(n));",
      "for (const name of names) console.log(name.length, name);",
      "export class Basket { constructor(readonly items: number[] = []) {} }",
      "```",
      "",
      "The last paragraph's & and <tags> stay text, and it ends here.",
    ].join("\n");
    s.fake.queue({ text, tokenDelayMs: 8, tokenSize: 2 });
    await page.getByLabel("Message").fill("grow");
    await page.getByLabel("Message").press("Enter");
    await page.locator('article[data-role="assistant"]').nth(1).and(page.locator('[data-status="complete"]')).waitFor();
    const seen = await page.evaluate(
      () => (window as unknown as { seen: { appended: number; appendedMarkup: number; streamed: string } }).seen,
    );
    expect(seen.appended).toBeGreaterThan(5);
    // Highlighted code and inline formatting are appended too, not only plain words. (How many
    // frames do depends on how the machine paces them: a busy one sends fewer, larger frames.)
    expect(seen.appendedMarkup).toBeGreaterThan(0);
    // The final render against what streamed, both without their code blocks' boxes and bars
    // (app.js gives a bar to indented code too, once an answer is finished).
    const [streamed, rendered] = await lastAnswer(page)
      .locator(".markdown")
      .evaluate((el, streamedHtml) => {
        const bare = (html: string) => {
          const copy = document.createElement("div");
          copy.innerHTML = html;
          for (const box of Array.from(copy.querySelectorAll(".code-block"))) {
            box.querySelector(".code-bar")?.remove();
            box.replaceWith(...Array.from(box.childNodes));
          }
          return copy.innerHTML;
        };
        return [bare(streamedHtml), bare(el.innerHTML)];
      }, seen.streamed);
    expect(streamed).toBe(rendered);
    expect(seen.streamed).toContain("&amp; and &lt;tags&gt; stay text");
    expect(problems).toEqual([]);
  });

  test("Enter sends, Shift+Enter makes a new line; the box empties after sending", async () => {
    const { page } = await s.open();
    await startChat(page, "first line");
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor();
    const box = page.getByLabel("Message");
    await box.fill("line one");
    await box.press("Shift+Enter");
    await box.type("line two");
    expect(await box.inputValue()).toBe("line one\nline two");
    await box.press("Enter");
    await page.locator('article[data-role="user"]', { hasText: "line two" }).waitFor();
    expect(await box.inputValue()).toBe("");
    const sent = await page.locator('article[data-role="user"]').last().textContent();
    expect(sent).toContain("line one\nline two");
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor();
  });

  test("reloading mid-answer shows what streamed and continues to the full answer, once", async () => {
    s.fake.queue({ text: LONG_ANSWER, tokenDelayMs: 40, tokenSize: 2 });
    const { page } = await s.open();
    await startChat(page, "reload test");
    await lastAnswer(page).locator("table").waitFor();
    await page.reload();
    const answer = lastAnswer(page);
    expect(await answer.getAttribute("data-status")).toBe("streaming");
    expect(((await answer.textContent()) ?? "").length).toBeGreaterThan(20);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor({ timeout: 20_000 });
    const live = await answer.locator(".markdown").innerHTML();
    await page.reload();
    expect(await lastAnswer(page).locator(".markdown").innerHTML()).toBe(live);
    expect(await page.locator('article[data-role="assistant"]').count()).toBe(1);
  });

  test("two pages on one chat see the same stream, and the sidebar of a third hears of it", async () => {
    const { page: first, context } = await s.open();
    await startChat(first, "shared chat");
    await first.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    const second = await context.newPage();
    await second.goto(first.url());
    const home = await context.newPage();
    await home.goto(s.server.url);
    s.fake.queue({ text: LONG_ANSWER, tokenDelayMs: 20, tokenSize: 3 });
    await first.getByLabel("Message").fill("second question");
    await first.getByRole("button", { name: "Send" }).click();
    await second.locator('article[data-role="user"]', { hasText: "second question" }).waitFor();
    await second.locator('article[data-role="assistant"][data-status="streaming"]').waitFor();
    await expect(second.getByRole("button", { name: "Stop" }).isVisible()).resolves.toBe(true);
    const chatId = first.url().split("/").pop();
    await home.locator(`#chat-item-${chatId}[data-generating="true"]`).waitFor();
    for (const p of [first, second]) {
      await p.locator('article[data-role="assistant"]').nth(1).and(p.locator('[data-status="complete"]')).waitFor();
    }
    const html = (p: Page) => lastAnswer(p).locator(".markdown").innerHTML();
    expect(await html(second)).toBe(await html(first));
    await home.locator(`#chat-item-${chatId}[data-generating="false"]`).waitFor();
  });

  test("Stop ends the answer as stopped, keeps its text, and brings Send back", async () => {
    s.fake.queue({ text: "lorem ipsum ".repeat(300), tokenDelayMs: 20 });
    const { page } = await s.open();
    await startChat(page, "talk a lot");
    await lastAnswer(page).getByText("lorem ipsum lorem").waitFor();
    await page.getByRole("button", { name: "Stop" }).click();
    await page.locator('article[data-role="assistant"][data-status="stopped"]').waitFor();
    expect(((await lastAnswer(page).textContent()) ?? "").length).toBeGreaterThan(10);
    await expect(page.getByRole("button", { name: "Send" }).isVisible()).resolves.toBe(true);
    await expect(lastAnswer(page).getByRole("button", { name: "Retry" }).isVisible()).resolves.toBe(true);
  });

  test("an upstream error shows inline with Retry, and Retry succeeds", async () => {
    s.fake.queue({ errorAfterTokens: 6, tokenDelayMs: 10 });
    const { page } = await s.open({ viewport: VIEWPORTS.phone, scheme: "dark" });
    await startChat(page, "please fail");
    await page.locator('article[data-role="assistant"][data-status="error"]').waitFor();
    await expect(lastAnswer(page).getByRole("alert").textContent()).resolves.toContain("failed mid-answer");
    await s.shot(page, "chat-error-phone-dark");
    await lastAnswer(page).getByRole("button", { name: "Retry" }).click();
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await expect(lastAnswer(page).textContent()).resolves.toContain("That is all.");
  });

  test("rename, change the model, and delete (after confirming) from the chat's header", async () => {
    const { page, problems, context } = await s.open();
    await startChat(page, "header actions");
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    const other = await context.newPage();
    await other.goto(s.server.url);
    await openChatMenu(page);
    await page.getByText("Rename").click();
    await page.getByLabel("Title").fill("Renamed <i>chat</i>");
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#chat-title", { hasText: "Renamed <i>chat</i>" }).waitFor();
    await other.getByRole("link", { name: "Renamed <i>chat</i>" }).waitFor();
    // The tab's title follows, without a reload.
    await page.waitForFunction(() => document.title === "Renamed <i>chat</i> · Parley");
    await page.getByRole("combobox", { name: "Model" }).fill("smart");
    await page.getByRole("combobox", { name: "Model" }).press("Enter");
    const chatId = page.url().split("/").pop()!;
    for (let i = 0; i < 50; i++) {
      const [row] = await t.database.rows<{ model: string }>(sql`select model from chats where id = ${chatId}`);
      if (row?.model === "fake/smart") break;
      await page.waitForTimeout(50);
    }
    const [saved] = await t.database.rows<{ model: string }>(sql`select model from chats where id = ${chatId}`);
    expect(saved?.model).toBe("fake/smart");
    await openChatMenu(page);
    await page.getByRole("button", { name: "Delete" }).click();
    await page
      .getByRole("alertdialog", { name: "Delete this chat?" })
      .getByRole("button", { name: "Delete chat" })
      .click();
    await page.waitForURL(`${s.server.url}/`);
    await other.getByRole("link", { name: "Renamed <i>chat</i>" }).waitFor({ state: "detached" });
    expect((await s.server.fetch(`/chats/${chatId}`)).status).toBe(404);
    expect(problems).toEqual([]);
  });

  test("a long chat opens at its newest messages, at the bottom, and loads older ones on scrolling up", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Very long", model: "fake/fast" })
      .returning();
    const rows = Array.from({ length: 120 }, (_, i) => ({
      id: Bun.randomUUIDv7(),
      chatId: chat!.id,
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      content: `message ${i}`,
      html: i % 2 ? `<p>message ${i}</p>` : null,
    }));
    await t.database.db.insert(messages).values(rows);
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    const transcript = page.locator("#transcript");
    const articles = page.locator("#transcript article");
    expect(await articles.count()).toBe(50);
    const gap = () => transcript.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(await gap()).toBeLessThan(5);
    // Scrolled to the top, earlier pages load (each replacing its "Loading" marker) until none is left.
    for (let i = 0; i < 200 && (await articles.count()) < 120; i++) {
      await transcript.evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.waitForTimeout(30);
    }
    const ids = await articles.evaluateAll((els) => els.map((e) => e.id.slice(4)));
    expect(ids).toEqual(rows.map((r) => r.id));
    expect(await page.getByText("Loading earlier messages").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  test("reasoning shows as Thinking… while it streams, then as a collapsed Thought for N s, and only when there is some", async () => {
    // The answer waits after its reasoning until the page has shown Thinking… (on a busy machine
    // the whole answer could otherwise end before the page first looks).
    const thought = Promise.withResolvers<void>();
    s.fake.queue({
      reasoning: "Weighing the options carefully. ".repeat(8),
      text: "Go with **B**.",
      tokenDelayMs: 10,
      stallAfterTokens: 0,
      resume: thought.promise,
    });
    const { page } = await s.open({ scheme: "dark" });
    await startChat(page, "A or B?");
    const answer = lastAnswer(page);
    await answer.locator("summary", { hasText: "Thinking…" }).waitFor();
    thought.resolve();
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    const thinking = answer.locator("details");
    expect(await thinking.isVisible()).toBe(true);
    expect(await thinking.getAttribute("open")).toBeNull();
    expect(await answer.getByText("Weighing the options").isVisible()).toBe(false);
    await answer.getByText(/^Thought for \d+ s$/).click();
    expect(await answer.getByText("Weighing the options").first().isVisible()).toBe(true);
    await s.shot(page, "chat-thinking-dark");
    s.fake.queue({ text: "No thoughts here." });
    await page.getByLabel("Message").fill("and without?");
    await page.getByLabel("Message").press("Enter");
    await page.locator('article[data-role="assistant"]').nth(1).and(page.locator('[data-status="complete"]')).waitFor();
    expect(await lastAnswer(page).locator("details").isVisible()).toBe(false);
  });
});
