import { beforeAll, expect, test } from "bun:test";
import { chats, messageFiles, messages } from "../../src/db/schema.ts";
import { file, text } from "../files/samples.ts";
import { upload, uploaded } from "../files/support.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite } from "../support/e2e.ts";

browserSuite("pglite", "searching in Chromium", { upstream: false }, (s, t) => {
  let chatId: string;
  let targetId: string;
  let newestId: string;
  beforeAll(async () => {
    const server = s.server;
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Garden diary", model: "m" })
      .returning();
    chatId = chat!.id;
    // A long chat whose match is far above the newest page.
    const rows = Array.from({ length: 90 }, (_, i) => ({
      id: Bun.randomUUIDv7(),
      chatId,
      role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
      content: i === 4 ? "Plant the tomatoes after the last frost, about two weeks." : `Entry ${i} about weeding.`,
      status: "complete" as const,
    }));
    await t.database.db.insert(messages).values(rows);
    targetId = rows[4]!.id;
    newestId = rows[89]!.id;
    await t.database.db.insert(chats).values({ userId: server.user.id, title: "Tomato soup recipe", model: "m" });
    // A text file sent with one of the diary's messages.
    const sent = await uploaded(
      await upload(server, [
        file(text("Heirloom courgette varieties: Costata Romanesco, Tromboncino.\n"), "seed-catalogue.txt"),
      ]),
    );
    await t.database.db
      .insert(messageFiles)
      .values({ messageId: rows[10]!.id, fileId: sent.files![0]!.id, position: 0 });
  });

  test("typing shows matching chats with the matches marked; a result opens the chat at that message", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const nav = page.getByRole("navigation", { name: "Chats" });
    await expect(nav.isVisible()).resolves.toBe(true);
    await page.getByRole("searchbox", { name: "Search chats" }).pressSequentially("tomat", { delay: 30 });
    const results = page.getByRole("list", { name: "Search results" });
    await results.waitFor();
    await page.getByText("Tomato soup recipe").first().waitFor();
    expect(await results.locator("mark").allTextContents()).toEqual(expect.arrayContaining(["Tomato", "tomatoes"]));
    // The chat list gives way to the results while the box holds words.
    expect(await nav.isVisible()).toBe(false);
    await s.shot(page, "search-results-desktop-light");

    await results.getByRole("link", { name: /Garden diary/ }).click();
    await page.waitForURL(`**/chats/${chatId}?at=${targetId}#msg-${targetId}`);
    const target = page.locator(`#msg-${targetId}`);
    await target.waitFor();
    // Opened at the match (in view, not scrolled to the bottom), and the newest is on the page too.
    await page.waitForFunction((id) => {
      const el = document.getElementById(`msg-${id}`)!.getBoundingClientRect();
      return el.top >= 0 && el.bottom <= window.innerHeight;
    }, targetId);
    expect(await page.locator(`#msg-${newestId}`).count()).toBe(1);
    await page.locator(`#msg-${targetId}[data-found]`).waitFor();
    await s.shot(page, "search-opened-desktop-light");

    // Clearing the box brings the chat list back.
    await page.goBack();
    await page.getByRole("searchbox", { name: "Search chats" }).fill("");
    await page.getByRole("searchbox", { name: "Search chats" }).dispatchEvent("search");
    await nav.waitFor({ state: "visible" });
    expect(problems).toEqual([]);
  });

  test("the keyboard walks the results: Arrow-Down from the box enters them, Up and Down move, Esc goes back", async () => {
    const { page } = await s.open();
    await page.goto(s.server.url);
    const box = page.getByRole("searchbox", { name: "Search chats" });
    // Typed at once: keys typed one by one on a loaded machine came more than the box's 250 ms
    // apart, so a search for "toma" showed first and the one for "tomat" replaced the list (and
    // the focused result) while the keys walked it.
    await box.fill("tomat");
    const results = page.getByRole("list", { name: "Search results" });
    await results.getByRole("link").nth(1).waitFor();
    const links = results.getByRole("link");
    const focused = () =>
      page.evaluate(() => document.activeElement?.textContent?.trim() ?? document.activeElement?.id);
    const first = (await links.nth(0).textContent())!.trim();
    const second = (await links.nth(1).textContent())!.trim();
    const isFocused = (locator: typeof box) => locator.evaluate((el) => el === document.activeElement);

    await box.press("ArrowDown");
    expect(await focused()).toBe(first);
    await page.keyboard.press("ArrowDown");
    expect(await focused()).toBe(second);
    await page.keyboard.press("ArrowDown"); // the last stays
    expect(await focused()).toBe(second);
    await page.keyboard.press("ArrowUp");
    expect(await focused()).toBe(first);
    await page.keyboard.press("ArrowUp"); // from the first, back to the box
    expect(await isFocused(box)).toBe(true);
    await box.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Escape");
    expect(await isFocused(box)).toBe(true);
    expect(await box.inputValue()).toBe("tomat");
    // Enter on a result opens it, as on any link.
    await box.press("ArrowDown");
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/chats/**`);
  });

  test("the results look right on a phone and in the dark", async () => {
    for (const scheme of ["light", "dark"] as const) {
      const { page } = await s.open({ viewport: VIEWPORTS.phone, scheme });
      await page.goto(s.server.url);
      await page.getByRole("button", { name: "Chats" }).click();
      await page.getByRole("searchbox", { name: "Search chats" }).pressSequentially("frost", { delay: 30 });
      await page.getByRole("list", { name: "Search results" }).locator("mark").first().waitFor();
      expect(await page.getByRole("list", { name: "Search results" }).textContent()).toContain("last frost");
      await s.shot(page, `search-results-phone-${scheme}`);
    }
    const { page } = await s.open({ scheme: "dark" });
    await page.goto(`${s.server.url}/chats/${chatId}?at=${targetId}#msg-${targetId}`);
    await page.locator(`#msg-${targetId}`).waitFor();
    await page.getByRole("searchbox", { name: "Search chats" }).pressSequentially("weeding entry", { delay: 30 });
    await page.getByRole("list", { name: "Search results" }).locator("mark").first().waitFor();
    await s.shot(page, "search-desktop-dark");
  });

  test("an attachment's words find its chat: the result names the file, its match marked", async () => {
    for (const [viewport, scheme] of [
      [VIEWPORTS.desktop, "light"],
      [VIEWPORTS.phone, "dark"],
    ] as const) {
      const { page } = await s.open({ viewport, scheme });
      await page.goto(s.server.url);
      if (viewport === VIEWPORTS.phone) await page.getByRole("button", { name: "Chats" }).click();
      await page.getByRole("searchbox", { name: "Search chats" }).pressSequentially("courgette", { delay: 30 });
      const results = page.getByRole("list", { name: "Search results" });
      // Results come as the person types: those for "co" (marking "Costata") may show first.
      await page.waitForFunction(() => {
        const marks = Array.from(document.querySelectorAll('[aria-label="Search results"] mark'), (m) => m.textContent);
        return marks.length > 0 && marks.every((m) => m === "courgette");
      });
      expect(await results.textContent()).toContain("📎 seed-catalogue.txt: Heirloom courgette varieties");
      expect(await results.locator("mark").allTextContents()).toEqual(["courgette"]);
      const size = viewport === VIEWPORTS.phone ? "phone" : "desktop";
      await s.shot(page, `search-attachment-${size}-${scheme}`);
    }
  });
});
