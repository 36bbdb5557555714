import { expect, test } from "bun:test";
import { CHAT_LIST_PAGE } from "../../src/chat/repos/chats.ts";
import { chats } from "../../src/db/schema.ts";
import { browserSuite } from "../support/e2e.ts";

browserSuite("postgres", "a long chat list in Chromium", { shots: "chat-list" }, (s, t) => {
  test("the sidebar loads more chats as it is scrolled; a change pushed meanwhile keeps the place", async () => {
    const total = CHAT_LIST_PAGE * 2 + 5;
    const base = Date.parse("2026-06-01T00:00:00Z");
    await t.database.db.insert(chats).values(
      Array.from({ length: total }, (_, i) => ({
        userId: s.server.user.id,
        title: `Old chat ${String(i).padStart(3, "0")}`,
        model: "fake/fast",
        updatedAt: new Date(base + i * 60_000),
      })),
    );
    const { page, problems } = await s.open({ watchSocket: true });
    await page.goto(s.server.url);
    await page.waitForFunction(() => (window as { connected?: boolean }).connected);
    const items = page.locator("#chat-nav li[id^='chat-item-']");
    await expect(items.count()).resolves.toBe(CHAT_LIST_PAGE);

    // Scrolled to its end, the list loads the next page, then the last.
    const nav = page.locator("#chat-nav");
    for (const shown of [CHAT_LIST_PAGE * 2, total]) {
      await nav.evaluate((el) => el.scrollTo(0, el.scrollHeight));
      await page.waitForFunction(
        (n) => document.querySelectorAll("#chat-nav li[id^='chat-item-']").length === n,
        shown,
      );
    }
    await expect(page.locator("#chat-list-more").count()).resolves.toBe(0);
    await expect(items.last().textContent()).resolves.toContain("Old chat 000");

    // A rename in another tab pushes the list's first page: this tab stays where it was scrolled.
    await nav.evaluate((el) => el.scrollTo(0, 600));
    const newest = await items.first().getAttribute("id");
    const chatId = newest!.replace("chat-item-", "");
    const renamed = await s.server.fetch(`/chats/${chatId}/title`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", "hx-request": "true" },
      body: "title=Renamed+elsewhere",
    });
    expect(renamed.status).toBe(204);
    await page.locator("#chat-nav", { hasText: "Renamed elsewhere" }).waitFor();
    await expect(nav.evaluate((el) => el.scrollTop)).resolves.toBe(600);
    await s.shot(page, "chat-list-scrolled-desktop-light");
    expect(problems).toEqual([]);
  });
});
