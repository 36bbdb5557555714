import { beforeAll, expect, test } from "bun:test";
import { chats } from "../../src/db/schema.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite } from "../support/e2e.ts";

browserSuite("pglite", "the home page in Chromium", { upstream: false }, (s, t) => {
  beforeAll(async () => {
    const server = s.server;
    await t.database.db.insert(chats).values([
      { userId: server.user.id, title: "Trip planning", model: "m" },
      { userId: server.user.id, title: '<img src=x onerror="window.pwned=1">', model: "m" },
    ]);
  });

  for (const [width, viewport] of Object.entries(VIEWPORTS)) {
    for (const scheme of ["light", "dark"] as const) {
      test(`renders styled with htmx 2 and the ws extension, no CSP violation (${width}, ${scheme})`, async () => {
        const { page, problems } = await s.open({ viewport, scheme });
        const res = await page.goto(s.server.url, { waitUntil: "load" });
        expect(res?.status()).toBe(200);
        expect(await page.title()).toBe("Parley");
        const loaded = await page.evaluate(() => {
          const w = window as unknown as { htmx?: { version: string; ext?: unknown }; pwned?: number };
          return {
            htmx: w.htmx?.version,
            ws: Boolean((w.htmx as unknown as { createWebSocket?: unknown })?.createWebSocket),
            pwned: w.pwned,
            background: getComputedStyle(document.body).backgroundColor,
          };
        });
        expect(loaded.htmx).toStartWith("2.");
        expect(loaded.ws).toBe(true);
        expect(loaded.pwned).toBeUndefined();
        // Tailwind's white vs zinc-950: proves the stylesheet loaded and follows the system scheme.
        expect(loaded.background).toBe(scheme === "light" ? "rgb(255, 255, 255)" : "oklch(0.141 0.005 285.823)");
        if (width === "phone") {
          // On a phone the chat list hides behind the menu button.
          expect(await page.getByRole("link", { name: "Trip planning" }).isVisible()).toBe(false);
          await page.getByRole("button", { name: "Chats" }).click();
        }
        await expect(page.getByRole("link", { name: "Trip planning" }).isVisible()).resolves.toBe(true);
        await expect(page.getByText('<img src=x onerror="window.pwned=1">').isVisible()).resolves.toBe(true);
        // No API key in this server's environment: the page says how to set one.
        await expect(page.getByText("No API key is set").isVisible()).resolves.toBe(true);
        expect(problems).toEqual([]);
        await s.shot(page, `home-${width}-${scheme}`, { fullPage: true });
      });
    }
  }
});
