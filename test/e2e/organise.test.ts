import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { browserSuite, openChatMenu, SIZES } from "../support/e2e.ts";

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
    await openChatMenu(page);
    await page.getByRole("button", { name: "Pin", exact: true }).focus();
    await page.keyboard.press("Enter");
    await page.waitForURL(`${s.server.url}/chats/${lisbon.id}`);
    const pinned = page.getByRole("list", { name: "Pinned" });
    await expect(pinned.textContent()).resolves.toContain("Trip to Lisbon");
    await openChatMenu(page);
    await expect(page.getByRole("button", { name: "Unpin" }).getAttribute("aria-pressed")).resolves.toBe("true");
    await page.keyboard.press("Escape");
    await shots(page, "pinned");

    // Archived, it leaves the list; the Archive page has it.
    await openChatMenu(page);
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

  test("from lg, the header's rarer actions are in its More menu: opened and closed by keyboard, it says whether it is open", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({
        userId: s.server.user.id,
        title: "A chat with a rather long title that needs its room",
        model: "fake/fast",
      })
      .returning();
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    const more = page.getByRole("button", { name: "More actions" });
    const menu = page.locator("#chat-more");
    // In the row: the model, Settings and Share; the rest is in the menu, closed.
    for (const name of ["Settings", "Share", "More actions"]) {
      expect([name, await page.getByRole("button", { name, exact: true }).isVisible()]).toEqual([name, true]);
    }
    for (const name of ["Move to…", "Pin", "Archive", "Delete"]) {
      expect([name, await page.getByRole("button", { name, exact: true }).isVisible()]).toEqual([name, false]);
    }
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    await more.focus();
    await page.keyboard.press("Enter");
    await menu.getByRole("button", { name: "Archive", exact: true }).waitFor();
    expect(await more.getAttribute("aria-expanded")).toBe("true");
    for (const name of ["Move to…", "Pin", "Archive", "Delete"]) {
      expect([name, await menu.getByRole("button", { name, exact: true }).isVisible()]).toEqual([name, true]);
    }
    await menu.getByText("Rename").waitFor();
    await menu.getByText("Export").waitFor();
    // Hung under its button, inside the window.
    const [button, box] = [await more.boundingBox(), await menu.boundingBox()];
    expect(box!.y).toBeGreaterThanOrEqual(button!.y + button!.height);
    expect(box!.x + box!.width).toBeLessThanOrEqual(SIZES.desktop.width);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await s.shot(page, `more-menu-desktop-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: "light" });
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "hidden" });
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    expect(await more.evaluate((el) => el === document.activeElement)).toBe(true);
    // The sidebar's small Move to… buttons show only on the item under the pointer or focused.
    const moves = page.locator("#chat-nav .move-button");
    expect(await moves.first().evaluate((b) => getComputedStyle(b).opacity)).toBe("0");
    await page.locator("#chat-nav li").first().hover();
    expect(await moves.first().evaluate((b) => getComputedStyle(b).opacity)).toBe("1");
    // The title keeps its room at 1280 px.
    expect((await page.locator("#chat-title").boundingBox())!.width).toBeGreaterThan(300);
    expect(problems).toEqual([]);
  });
});
