import { expect, test } from "bun:test";
import type { Locator, Page } from "playwright-core";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

const CODE = 'const ok = 1 < 2 && "<b>";\nconsole.log(ok);';
/** An answer with Markdown that renders differently from its source: bold, a link, a code fence. */
const ANSWER = [
  "Here is **bold**, a [link](https://example.com) and `inline code`.",
  "",
  "```js",
  CODE,
  "```",
  "",
  "That is all & done.",
].join("\n");
const QUESTION = "Please make this **bold**:\n```py\nprint('<hi>')\n```";

browserSuite("pglite", "copying and keyboard shortcuts in Chromium", { shots: "copy-and-keys" }, (s, t) => {
  // A loaded page is current (watchSocket): once its socket is open, nothing pushed replaces its messages.
  const open = (opts: { scheme?: "light" | "dark"; mac?: boolean } = {}) =>
    s.open({
      scheme: opts.scheme,
      clipboard: true,
      watchSocket: true,
      // Only a Mac needs a context of its own: the others take a kept page.
      prepare: opts.mac
        ? (context) =>
            // What a Mac's Chromium reports; app.js reads it to pick Cmd over Ctrl.
            context.addInitScript(() => {
              Object.defineProperty(navigator, "platform", { get: () => "MacIntel" });
              Object.defineProperty(navigator, "userAgentData", { get: () => ({ platform: "macOS" }) });
            })
        : undefined,
    });
  const clipboard = (page: Page) => page.evaluate(() => navigator.clipboard.readText());
  /** Clicks a Copy button, checks it says so, and returns what landed on the clipboard. */
  const copy = async (page: Page, button: Locator) => {
    await page.evaluate(() => navigator.clipboard.writeText("(nothing copied)"));
    // Held by element: the button's name changes to "Copied", which its locator would no longer match.
    const held = (await button.elementHandle())!;
    expect(await held.getAttribute("aria-live")).toBe("polite");
    await held.click();
    await page.waitForFunction((el) => el.textContent === "Copied", held);
    return clipboard(page);
  };
  const send = async (page: Page, text: string) => {
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
  };
  const articles = (page: Page, role: "user" | "assistant") => page.locator(`article[data-role="${role}"]`);
  const stopControl = (page: Page) => page.locator("#composer-controls").getByRole("button", { name: "Stop" });

  test("messages pushed live and rendered in the page copy their Markdown source, code blocks their code", async () => {
    const { page, problems } = await open();
    await page.goto(s.server.url);
    s.fake.queue({ text: "A first answer." });
    await send(page, "hello");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await articles(page, "assistant").and(page.locator('[data-status="complete"]')).waitFor();

    // Sent from the chat page: both messages arrive over the socket.
    s.fake.queue({ text: ANSWER, tokenDelayMs: 15, tokenSize: 3 });
    await send(page, QUESTION);
    const answer = articles(page, "assistant").nth(1);
    await answer.and(page.locator('[data-status="streaming"]')).waitFor();
    // Hidden while the answer is written: its source is not on the page yet.
    expect(await answer.locator("[data-copy]").count()).toBe(0);
    await answer.and(page.locator('[data-status="complete"]')).waitFor();
    const question = articles(page, "user").nth(1);
    expect(await copy(page, question.getByRole("button", { name: "Copy" }))).toBe(QUESTION);
    expect(await copy(page, answer.getByRole("button", { name: "Copy", exact: true }))).toBe(ANSWER);
    expect(await copy(page, answer.getByRole("button", { name: "Copy code" }))).toBe(CODE);
    // The label comes back, and the rendered answer is untouched by the button beside its code.
    await answer.getByRole("button", { name: "Copy code" }).waitFor();
    expect(await answer.locator("pre code").textContent()).toBe(`${CODE}\n`);

    // The same chat from a page load.
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
    const loaded = articles(page, "assistant").nth(1);
    expect(await copy(page, articles(page, "user").nth(1).getByRole("button", { name: "Copy" }))).toBe(QUESTION);
    expect(await copy(page, loaded.getByRole("button", { name: "Copy", exact: true }))).toBe(ANSWER);
    expect(await copy(page, loaded.getByRole("button", { name: "Copy code" }))).toBe(CODE);
    expect(await page.locator(".code-block").count()).toBe(1);
    // "Copied" is brief: every button says Copy again.
    await page.waitForFunction(
      () =>
        !Array.from(document.querySelectorAll("[data-copy], [data-copy-code]")).some((b) => b.textContent === "Copied"),
    );

    for (const [width, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await loaded.scrollIntoViewIfNeeded();
        await s.shot(page, `copy-${width}-${scheme}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("messages loaded as older ones on scrolling up copy their source and code too", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Long with code", model: "fake/fast" })
      .returning();
    const rows = Array.from({ length: 60 }, (_, i) => {
      const content = i === 1 ? ANSWER : `message ${i}`;
      return {
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        role: i % 2 ? ("assistant" as const) : ("user" as const),
        content,
        html: i % 2 ? renderMarkdown(content) : null,
      };
    });
    await t.database.db.insert(messages).values(rows);
    const { page, problems } = await open();
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    const oldest = page.locator(`#msg-${rows[1]!.id}`);
    for (let i = 0; i < 200 && !(await oldest.count()); i++) {
      await page.locator("#transcript").evaluate((el) => {
        el.scrollTop = 0;
      });
      await page.waitForTimeout(30);
    }
    expect(await copy(page, oldest.getByRole("button", { name: "Copy", exact: true }))).toBe(ANSWER);
    expect(await copy(page, oldest.getByRole("button", { name: "Copy code" }))).toBe(CODE);
    expect(await copy(page, page.locator(`#msg-${rows[0]!.id}`).getByRole("button", { name: "Copy" }))).toBe(
      "message 0",
    );
    expect(problems).toEqual([]);
  });

  test("Esc stops the answer being written, from the message box or the page", async () => {
    const { page, problems } = await open();
    await page.goto(s.server.url);
    s.fake.queue({ text: "word ".repeat(400), tokenDelayMs: 30, tokenSize: 5 });
    await send(page, "go on for a while");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const answer = articles(page, "assistant").first();
    await answer.getByText("word word").first().waitFor();
    await stopControl(page).waitFor();
    await page.getByLabel("Message").focus();
    await page.keyboard.press("Escape");
    await answer.and(page.locator('[data-status="stopped"]')).waitFor();
    expect(s.fake.requests.at(-1)!.wasDisconnected).toBe(true);
    await page.getByRole("button", { name: "Send" }).waitFor();

    // Again with the focus on the page rather than in a box.
    s.fake.queue({ text: "more ".repeat(400), tokenDelayMs: 30, tokenSize: 5 });
    await send(page, "and again");
    const second = articles(page, "assistant").nth(1);
    await second.getByText("more more").first().waitFor();
    await page.locator("#transcript").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("Escape");
    await second.and(page.locator('[data-status="stopped"]')).waitFor();
    // A stopped answer keeps what was written, and can be copied.
    const kept = await second
      .locator("template[data-source]")
      .evaluate((el) => (el as HTMLTemplateElement).content.textContent);
    expect(kept).toStartWith("more more");
    expect(await copy(page, second.getByRole("button", { name: "Copy", exact: true }))).toBe(kept!);
    expect(problems).toEqual([]);
  });

  test("/ and Shift+Esc go to the message box; typed in a box, / and ? are just text", async () => {
    const { page, problems } = await open();
    await page.goto(s.server.url);
    const box = page.getByLabel("Message");
    const focused = () => page.evaluate(() => document.activeElement?.id ?? "");
    await page.locator("#transcript").click({ position: { x: 5, y: 5 } });
    expect(await focused()).not.toBe("message");
    await page.keyboard.press("/");
    expect(await focused()).toBe("message");
    expect(await box.inputValue()).toBe("");
    await page.keyboard.type("a/b? c");
    expect(await box.inputValue()).toBe("a/b? c");
    expect(await page.locator("#shortcuts").isVisible()).toBe(false);
    await page.getByRole("combobox", { name: "Model" }).focus();
    await page.keyboard.press("Shift+Escape");
    expect(await focused()).toBe("message");
    expect(problems).toEqual([]);
  });

  test("Ctrl+Shift+O opens a new chat, even from the message box; Ctrl+K goes to the search box", async () => {
    const { page, problems } = await open();
    await page.goto(s.server.url);
    await send(page, "a chat to leave");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await articles(page, "assistant").and(page.locator('[data-status="complete"]')).waitFor();
    // The search box is another feature's; where it is missing, one stands in for it.
    await page.evaluate(() => {
      if (document.getElementById("search")) return;
      const input = document.createElement("input");
      input.id = "search";
      document.getElementById("sidebar")?.prepend(input);
    });
    await page.getByLabel("Message").focus();
    await page.keyboard.press("Control+k");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("search");
    await page.getByLabel("Message").focus();
    await page.keyboard.press("Control+Shift+O");
    await page.waitForURL(`${s.server.url}/`);
    expect(await page.locator("#chat-title").count()).toBe(0);
    expect(problems).toEqual([]);
  });

  test("? opens the list of shortcuts, which Esc, its Close button and the backdrop close", async () => {
    const { page, problems } = await open();
    await page.goto(s.server.url);
    const dialog = page.getByRole("dialog", { name: "Keyboard shortcuts" });
    expect(await dialog.isVisible()).toBe(false);
    await page.locator("#transcript").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("?");
    await dialog.waitFor();
    for (const what of ["New chat", "Search chats", "Write a message", "Stop the answer being written"]) {
      expect(await dialog.getByText(what).isVisible()).toBe(true);
    }
    expect(await dialog.locator("kbd[data-mod]").first().textContent()).toBe("Ctrl");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: /Shortcuts/ }).click();
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });

    await page.getByRole("button", { name: /Shortcuts/ }).click();
    await page.mouse.click(10, 10);
    await dialog.waitFor({ state: "hidden" });

    for (const [width, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await page.locator("#transcript").click({ position: { x: 5, y: 5 } });
        await page.keyboard.press("?");
        await dialog.waitFor();
        await s.shot(page, `shortcuts-${width}-${scheme}`);
        await page.keyboard.press("Escape");
        await dialog.waitFor({ state: "hidden" });
      }
    }
    expect(problems).toEqual([]);
  });

  test("on a Mac the list says Cmd, and Cmd+Shift+O is the new-chat shortcut", async () => {
    const { page, problems } = await open({ mac: true });
    await page.goto(s.server.url);
    await send(page, "a chat on a mac");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.keyboard.press("Meta+Shift+O");
    await page.waitForURL(`${s.server.url}/`);
    await page.locator("#transcript").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("?");
    expect(await page.locator("#shortcuts kbd[data-mod]").first().textContent()).toBe("Cmd");
    expect(problems).toEqual([]);
  });
});
