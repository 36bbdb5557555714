import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats, messages, presets } from "../../src/db/schema.ts";
import { closeContext } from "../support/browser.ts";
import { browserSuite, openChatMenu, openEditor, SIZES } from "../support/e2e.ts";

const SUITE = "messages: editing, thinking, jumping to the latest, days and times, deleting";
browserSuite("pglite", SUITE, { shots: "messages" }, (s, t) => {
  const open = async (opts: { phone?: boolean; scheme?: "light" | "dark"; javaScript?: boolean } = {}) => {
    const opened = await s.open(opts);
    const { page, problems } = opened;
    // The browser's own confirm() is what these replace: any dialog of the browser's is a failure.
    page.on("dialog", (d) => {
      problems.push(`browser dialog: ${d.message()}`);
      void d.dismiss();
    });
    return opened;
  };
  const articles = (page: Page, role: "user" | "assistant") => page.locator(`article[data-role="${role}"]`);
  const finished = (page: Page) => page.locator('article[data-role="assistant"][data-status="complete"]');
  const startChat = async (page: Page, text: string) => {
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
  };
  /** A chat written straight into the database: its messages one after another, each `createdAt` as given. */
  const storedChat = async (title: string, rows: { content: string; createdAt?: Date }[]) => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title, model: "fake/fast" })
      .returning();
    const ids = rows.map(() => Bun.randomUUIDv7());
    const values = rows.map((r, i) => ({
      id: ids[i]!,
      chatId: chat!.id,
      // Each follows the one before, as sent: without parents they would all be versions of the first.
      parentId: i ? ids[i - 1]! : null,
      role: i % 2 ? ("assistant" as const) : ("user" as const),
      content: r.content,
      html: i % 2 ? `<p>${r.content}</p>` : null,
      ...(r.createdAt ? { createdAt: r.createdAt } : {}),
    }));
    await t.database.db.insert(messages).values(values);
    return { chatId: chat!.id, ids: values.map((v) => v.id) };
  };

  test("an edit sends on Enter, Shift+Enter makes a new line, Cancel and Esc put the message back; the original hides meanwhile", async () => {
    for (const look of [
      { phone: false, scheme: "light" as const },
      { phone: true, scheme: "dark" as const },
    ]) {
      const { page, problems, context } = await open(look);
      s.fake.queue({ text: "First answer." });
      await startChat(page, "Original words");
      await finished(page).waitFor();
      const question = articles(page, "user").first();
      const body = question.locator("[data-body]");

      const box = question.getByLabel("Your edit");
      const openEdit = () => openEditor(page, question);

      // Cancel: the editor closes, the message shows again with its words, and the box is reset.
      await openEdit();
      expect(await body.isVisible()).toBe(false);
      await s.shot(page, `edit-box-${look.phone ? "phone" : "desktop"}-${look.scheme}`);
      await box.fill("Changed my mind");
      await question.getByRole("button", { name: "Cancel" }).click();
      await box.waitFor({ state: "hidden" });
      expect(await body.isVisible()).toBe(true);
      expect(await body.textContent()).toBe("Original words");
      expect(await box.inputValue()).toBe("Original words");

      // Esc in the edit box does the same, and does not stop anything else.
      await openEdit();
      await box.fill("Changed again");
      await box.press("Escape");
      await box.waitFor({ state: "hidden" });
      expect(await box.inputValue()).toBe("Original words");
      expect(await body.isVisible()).toBe(true);

      // Shift+Enter makes a new line; an Enter that ends an IME composition does not send.
      await openEdit();
      await box.fill("Line one");
      await box.press("Shift+Enter");
      await box.pressSequentially("line two");
      await box.evaluate((el) =>
        el.dispatchEvent(
          new KeyboardEvent("keydown", { key: "Enter", isComposing: true, bubbles: true, cancelable: true }),
        ),
      );
      expect(await box.inputValue()).toBe("Line one\nline two");
      expect(await box.isVisible()).toBe(true);

      // Enter sends the edit: a new branch with the new words and a new answer.
      s.fake.queue({ text: "Second answer." });
      await box.press("Enter");
      await page.getByText("Second answer.").waitFor();
      expect(await articles(page, "user").first().locator("[data-body]").textContent()).toBe("Line one\nline two");
      expect(await page.getByText("First answer.").count()).toBe(0);
      expect(problems).toEqual([]);
      await closeContext(context);
    }
  });

  test("a reasoning model shows Thinking… with its seconds and reasoning, then Thought for N s, kept on reload", async () => {
    const { page, problems } = await open();
    const reasoning = "Let me weigh this carefully. ".repeat(12);
    s.fake.queue({ reasoning, text: "The answer is 42.", tokenSize: 4, tokenDelayMs: 25 });
    await startChat(page, "Think about it");
    const answer = articles(page, "assistant").first();
    const thinking = answer.locator("details[data-thinking]");
    // While it reasons: open, counting seconds, the reasoning streaming in; no waiting dots.
    await thinking.locator("summary", { hasText: "Thinking…" }).waitFor();
    await answer.locator("[data-thinking-ms]", { hasText: /^[1-9]\d* s$/ }).waitFor();
    expect(await thinking.getAttribute("open")).not.toBeNull();
    expect(await answer.locator("[data-waiting]").isVisible()).toBe(false);
    expect((await answer.locator("pre").textContent())?.length).toBeGreaterThan(0);
    await s.shot(page, "thinking-desktop-light");
    await page.setViewportSize(SIZES.phone);
    await page.emulateMedia({ colorScheme: "dark" });
    await s.shot(page, "thinking-phone-dark");

    // Once the answer comes: collapsed, "Thought for N s", the reasoning still inside.
    await finished(page).waitFor();
    const summary = thinking.locator("summary");
    expect(await summary.textContent()).toMatch(/^Thought for [1-9]\d* s$/);
    expect(await thinking.getAttribute("open")).toBeNull();
    expect(await answer.locator("pre").textContent()).toBe(reasoning);
    await s.shot(page, "thought-phone-dark");
    const [row] = await t.database.rows<{ thinking_ms: number | null }>(
      sql`select thinking_ms from messages where role = 'assistant' and content = 'The answer is 42.'`,
    );
    expect(row?.thinking_ms).toBeGreaterThan(999);

    await page.reload();
    const reloaded = articles(page, "assistant").first().locator("details[data-thinking]");
    expect(await reloaded.locator("summary").textContent()).toBe(await summary.textContent());
    expect(await reloaded.getAttribute("open")).toBeNull();
    await reloaded.locator("summary").click();
    expect(await reloaded.locator("pre").textContent()).toBe(reasoning);
    expect(problems).toEqual([]);
  });

  test("where the system asks for less motion, the waiting dots and the sidebar's writing dot hold still", async () => {
    const { page, problems } = await open();
    // Held before its first word, so the dots stay while the page is looked at.
    const held = Promise.withResolvers<void>();
    s.fake.queue({ text: "Here now.", stallAfterTokens: 0, resume: held.promise });
    await startChat(page, "Take your time");
    const dots = articles(page, "assistant").first().locator("[data-waiting] span");
    const writing = page.locator('.chat-item span[role="img"][aria-label="generating"]');
    await dots.first().waitFor();
    await writing.waitFor();
    const animations = async () => [
      ...(await dots.evaluateAll((els) => els.map((el) => getComputedStyle(el).animationName))),
      await writing.evaluate((el) => getComputedStyle(el).animationName),
    ];
    expect(await animations()).toEqual(["bounce", "bounce", "bounce", "pulse"]);
    await page.emulateMedia({ reducedMotion: "reduce" });
    expect(await animations()).toEqual(["none", "none", "none", "none"]);
    expect(await dots.count()).toBe(3);
    held.resolve();
    await finished(page).waitFor();
    expect(problems).toEqual([]);
  });

  test("'an answer is still being written' goes once the answer ends; the follow-up stays in the box to send", async () => {
    const { page, problems } = await open();
    const held = Promise.withResolvers<void>();
    s.fake.queue({ text: "Done now.", stallAfterTokens: 1, resume: held.promise });
    await startChat(page, "First question");
    await page.getByRole("button", { name: "Stop" }).waitFor();
    const box = page.getByLabel("Message");
    await box.fill("A follow-up");
    await box.press("Enter");
    const status = page.locator("#composer-status");
    await status.getByText("An answer is still being written").waitFor();
    expect(await box.inputValue()).toBe("A follow-up");
    held.resolve();
    await finished(page).waitFor();
    await page.getByRole("button", { name: "Send" }).waitFor();
    await page.waitForFunction(() => document.getElementById("composer-status")?.textContent === "");
    expect(await box.inputValue()).toBe("A follow-up");
    expect(problems).toEqual([]);
  });

  test("Jump to latest shows while scrolled up from the stream, and brings the reader back to follow it", async () => {
    const { chatId } = await storedChat(
      "Long",
      Array.from({ length: 30 }, (_, i) => ({ content: `message ${i}` })),
    );
    const { page, problems } = await open();
    await page.goto(`${s.server.url}/chats/${chatId}`);
    const jump = page.getByRole("button", { name: "Jump to latest" });
    const transcript = page.locator("#transcript");
    expect(await jump.isVisible()).toBe(false);

    s.fake.queue({ text: "word ".repeat(600), tokenSize: 5, tokenDelayMs: 15 });
    await page.getByLabel("Message").fill("Write a lot");
    await page.getByLabel("Message").press("Enter");
    await page.locator('article[data-role="assistant"][data-status="streaming"]').waitFor();
    // Scrolled up as a person does, with the wheel (a frame may land between two turns of it).
    await transcript.hover();
    for (let i = 0; i < 50 && !(await jump.isVisible()); i++) {
      await page.mouse.wheel(0, -400);
      await page.waitForTimeout(50);
    }
    await jump.waitFor();
    await s.shot(page, "jump-desktop-light");
    await page.setViewportSize(SIZES.phone);
    await page.emulateMedia({ colorScheme: "dark" });
    await s.shot(page, "jump-phone-dark");
    await jump.click();
    await jump.waitFor({ state: "hidden" });
    // Followed again: as the answer grows, the transcript stays at its bottom.
    await finished(page).last().waitFor();
    const gap = await transcript.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
    expect(gap).toBeLessThan(80);
    expect(await jump.isVisible()).toBe(false);
    expect(problems).toEqual([]);
  });

  test("a stopped answer shows how many tokens came, as a finished one does", async () => {
    const { page, problems } = await open();
    s.fake.queue({ text: "lorem ipsum ".repeat(300), tokenDelayMs: 20 });
    await startChat(page, "talk a lot");
    const answer = articles(page, "assistant").first();
    await answer.getByText("lorem ipsum lorem").waitFor();
    await page.locator("#composer-controls").getByRole("button", { name: "Stop" }).click();
    await page.locator('article[data-role="assistant"][data-status="stopped"]').waitFor();
    const footer = answer.locator("footer");
    await footer.getByText(/^about [1-9]\d* out$/).waitFor();
    await page.reload();
    await articles(page, "assistant")
      .first()
      .locator("footer")
      .getByText(/^about [1-9]\d* out$/)
      .waitFor();
    expect(problems).toEqual([]);
  });

  test("messages are grouped by day, and each shows its time on hover or focus, with the full date in its title", async () => {
    const day = 24 * 60 * 60 * 1000;
    const now = Date.now();
    const { chatId, ids } = await storedChat("Over days", [
      { content: "long ago", createdAt: new Date(now - 10 * day) },
      { content: "reply long ago", createdAt: new Date(now - 10 * day + 1000) },
      { content: "yesterday", createdAt: new Date(now - day) },
      { content: "reply yesterday", createdAt: new Date(now - day + 1000) },
      { content: "today", createdAt: new Date(now - 1000) },
      { content: "reply today", createdAt: new Date(now) },
    ]);
    const { page, problems, context } = await open();
    await page.goto(`${s.server.url}/chats/${chatId}`);
    const separators = page.getByRole("separator");
    await separators.nth(2).waitFor();
    const longAgo = new Date(now - 10 * day).toLocaleDateString("en-US", {
      weekday: "long",
      year: "numeric",
      month: "long",
      day: "numeric",
    });
    // The browser's locale is en-US here.
    expect(await separators.allTextContents()).toEqual([longAgo, "Yesterday", "Today"]);
    // Each separator stands right before the first message of its day.
    for (const [n, id] of [ids[0], ids[2], ids[4]].entries()) {
      expect(await page.locator(`#msg-${id}`).evaluate((el) => el.previousElementSibling?.textContent)).toBe(
        (await separators.nth(n).textContent()) ?? undefined,
      );
    }

    const time = page.locator(`#msg-${ids[4]} time`);
    expect(await time.getAttribute("title")).toContain(new Date(now - 1000).getFullYear().toString());
    expect(await time.textContent()).toMatch(/^\d{1,2}:\d{2}\s?(AM|PM)$/);
    const opacity = () => time.evaluate((el) => getComputedStyle(el).opacity);
    await page.mouse.move(0, 0);
    expect(await opacity()).toBe("0");
    await page.locator(`#msg-${ids[4]}`).hover();
    expect(await opacity()).toBe("1");
    await page.mouse.move(0, 0);
    await page.locator(`#msg-${ids[4]}`).getByRole("button", { name: "Copy" }).focus();
    expect(await opacity()).toBe("1");
    await s.shot(page, "days-desktop-light");

    // A message sent now joins today's group: no second "Today".
    s.fake.queue({ text: "Answer of today." });
    await page.getByLabel("Message").fill("One more");
    await page.getByLabel("Message").press("Enter");
    await page.getByText("Answer of today.").waitFor();
    expect(await separators.allTextContents()).toEqual([longAgo, "Yesterday", "Today"]);
    expect(problems).toEqual([]);
    await closeContext(context);

    // On a touch screen there is no hover: the times show.
    const phone = await open({ phone: true, scheme: "dark" });
    await phone.page.goto(`${s.server.url}/chats/${chatId}`);
    await phone.page.getByRole("separator").nth(2).waitFor();
    expect(await phone.page.locator(`#msg-${ids[4]} time`).evaluate((el) => getComputedStyle(el).opacity)).toBe("1");
    await phone.page.locator(`#msg-${ids[2]}`).scrollIntoViewIfNeeded();
    await s.shot(phone.page, "days-phone-dark");
  });

  test("deleting a chat asks in the page, by keyboard: Cancel is focused, Esc keeps the chat, confirming deletes it", async () => {
    for (const look of [
      { phone: false, scheme: "light" as const },
      { phone: true, scheme: "dark" as const },
    ]) {
      const { chatId } = await storedChat("To delete", [{ content: "hi" }, { content: "hello" }]);
      const { page, problems, context } = await open(look);
      await page.goto(`${s.server.url}/chats/${chatId}`);
      const dialog = page.getByRole("alertdialog", { name: "Delete this chat?" });
      expect(await dialog.isVisible()).toBe(false);
      const opener = page.getByRole("button", { name: "Delete", exact: true });
      await openChatMenu(page);
      await opener.focus();
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      expect(await dialog.getByText("This cannot be undone.", { exact: false }).isVisible()).toBe(true);
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Cancel");
      await s.shot(page, `delete-dialog-${look.phone ? "phone" : "desktop"}-${look.scheme}`);
      await page.keyboard.press("Escape");
      await dialog.waitFor({ state: "hidden" });
      expect((await s.server.fetch(`/chats/${chatId}`)).status).toBe(200);

      await opener.focus();
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      await page.keyboard.press("Enter"); // on Cancel
      await dialog.waitFor({ state: "hidden" });
      expect((await s.server.fetch(`/chats/${chatId}`)).status).toBe(200);

      await opener.focus();
      await page.keyboard.press("Enter");
      await dialog.waitFor();
      await page.keyboard.press("Tab");
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Delete chat");
      await page.keyboard.press("Enter");
      await page.waitForURL(`${s.server.url}/`);
      expect((await s.server.fetch(`/chats/${chatId}`)).status).toBe(404);
      expect(problems).toEqual([]);
      await closeContext(context);
    }
  });

  test("without JavaScript, deleting a preset still asks first", async () => {
    const [preset] = await t.database.db
      .insert(presets)
      .values({ userId: s.server.user.id, name: "Old preset", model: "fake/fast" })
      .returning();
    const { page, problems } = await open({ javaScript: false });
    await page.goto(`${s.server.url}/presets`);
    const item = page.locator(`[data-preset="${preset!.id}"]`);
    await item.getByRole("button", { name: "Delete" }).click();
    const dialog = page.getByRole("alertdialog", { name: "Delete the preset “Old preset”?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    await page.reload();
    expect(await item.count()).toBe(1);
    await item.getByRole("button", { name: "Delete" }).click();
    await dialog.getByRole("button", { name: "Delete preset" }).click();
    await page.waitForURL(/\/presets/);
    expect(await page.locator(`[data-preset="${preset!.id}"]`).count()).toBe(0);
    expect(problems).toEqual([]);
  });
});
