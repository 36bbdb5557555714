import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

const NOTICE = "Temporary chat: not saved in your chats; deleted when you leave it or after 24 hours.";

browserSuite(
  "postgres",
  "temporary chats in Chromium",
  { shots: "temporary", env: { TEMPORARY_CHAT_GRACE_SECONDS: "2" } },
  (s, t) => {
    /** The page at each size and scheme, as `<name>-<size>-<scheme>.png`; back to desktop light after. */
    async function shoot(page: Page, name: string) {
      for (const [size, viewport] of Object.entries(SIZES)) {
        for (const scheme of ["light", "dark"] as const) {
          await page.setViewportSize(viewport);
          await page.emulateMedia({ colorScheme: scheme });
          await s.shot(page, `${name}-${size}-${scheme}`);
        }
      }
      await page.setViewportSize(SIZES.desktop);
      await page.emulateMedia({ colorScheme: "light" });
    }
    const exists = async (id: string) => (await t.database.db.select().from(chats).where(eq(chats.id, id))).length > 0;

    test("switched on before the first message: the chat says it is temporary, is not listed, survives a reload and is deleted once left", async () => {
      const { page, problems } = await s.open({ watchSocket: true });
      // A regular chat, which the list shows.
      await page.goto(s.server.url);
      await page.getByLabel("Message").fill("Keep this one about herons");
      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();

      await page.goto(s.server.url);
      const notice = page.getByText(NOTICE);
      expect(await notice.isVisible()).toBe(false);
      // The switch's box is drawn beside its hidden checkbox: a person clicks the label.
      await page.getByText("Temporary chat", { exact: true }).click();
      expect(await page.getByLabel("Temporary chat").isChecked()).toBe(true);
      await notice.waitFor();
      await page.getByLabel("Message").fill("A passing thought about pelicans");
      await page.mouse.move(0, 799); // not hovering the switch in the pictures
      await shoot(page, "new-chat-switched-on");

      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      const id = /\/chats\/([0-9a-f-]+)$/.exec(page.url())![1]!;
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
      await page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
      await notice.waitFor();
      expect(await page.getByRole("button", { name: "Share", exact: true }).count()).toBe(0);
      const list = page.locator("#chat-nav");
      // The model names each chat "About <its first words>".
      await expect(list.textContent()).resolves.toContain("About Keep this");
      await expect(list.textContent()).resolves.not.toContain("A passing");
      expect(await list.locator(`a[href="/chats/${id}"]`).count()).toBe(0);
      await shoot(page, "temporary-chat");

      // A reload keeps it (its socket is back within the grace period).
      await page.reload();
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
      await page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
      await notice.waitFor();
      expect(await exists(id)).toBe(true);

      // Going elsewhere leaves it: deleted, and its link finds nothing.
      await page
        .getByRole("link", { name: /About Keep this/ })
        .first()
        .click();
      await page.waitForURL((url) => !url.pathname.endsWith(id));
      for (let i = 0; i < 400 && (await exists(id)); i++) await Bun.sleep(25);
      expect(await exists(id)).toBe(false);
      const gone = await page.goto(`${s.server.url}/chats/${id}`);
      expect(gone?.status()).toBe(404);
      await page.getByText("There is no such chat.").waitFor();
      expect(problems.filter((p) => !p.includes("404"))).toEqual([]);
    });
  },
);
