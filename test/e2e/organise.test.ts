import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

browserSuite("pglite", "pinning and archiving chats in Chromium", { shots: "organise" }, (s, t) => {
  const shots = async (page: Page, name: string) => {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await s.shot(page, `${name}-${size}-${scheme}`);
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };

  test("pin a chat from its header, archive it, find it on the Archive page and restore it", async () => {
    const titles = ["Garden plans", "Tax questions", "Trip to Lisbon"];
    const made = await t.database.db
      .insert(chats)
      .values(
        titles.map((title, i) => ({
          userId: s.server.user.id,
          title,
          model: "fake/fast",
          updatedAt: new Date(Date.now() - i * 60_000),
        })),
      )
      .returning();
    const lisbon = made.find((c) => c.title === "Trip to Lisbon")!;
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/chats/${lisbon.id}`);

    // Pin by keyboard: the header's action is a plain button.
    await page.getByRole("button", { name: "Pin", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(`${s.server.url}/chats/${lisbon.id}`);
    const pinned = page.getByRole("list", { name: "Pinned" });
    await expect(pinned.textContent()).resolves.toContain("Trip to Lisbon");
    await expect(page.getByRole("button", { name: "Unpin" }).getAttribute("aria-pressed")).resolves.toBe("true");
    await shots(page, "pinned");

    // Archived, it leaves the list; the Archive page has it.
    await page.getByRole("button", { name: "Archive", exact: true }).click();
    await page.waitForURL(`${s.server.url}/`);
    await expect(page.locator("#chat-nav").textContent()).resolves.not.toContain("Trip to Lisbon");
    await page.getByRole("link", { name: "Archive", exact: true }).click();
    await page.waitForURL(/\/archive$/);
    const item = page.locator("#archive-list li", { hasText: "Trip to Lisbon" });
    await item.waitFor();
    await shots(page, "archive");

    // Opened from there, its page says it is archived.
    await item.getByRole("link", { name: "Trip to Lisbon" }).click();
    await page.locator("#archived-notice").waitFor();
    await shots(page, "archived-chat");
    await page.locator("#archived-notice").getByRole("button", { name: "Restore" }).click();
    await page.waitForURL(`${s.server.url}/chats/${lisbon.id}`);
    await expect(page.locator("#archived-notice").count()).resolves.toBe(0);
    // Restored, it is back, still pinned.
    await expect(pinned.textContent()).resolves.toContain("Trip to Lisbon");
    expect(problems).toEqual([]);
  });
});
