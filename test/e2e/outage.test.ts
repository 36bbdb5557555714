import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { DRIVERS } from "../support/db.ts";
import { outageFixture } from "../support/faults.ts";

const UNAVAILABLE = "The database is unavailable; Parley retries on its own.";

/**
 * A person is reading an answer when Postgres goes away (its database refuses connections, its
 * open ones cut) and comes back: the page says so in words, keeps every word it showed, and
 * carries on by itself.
 */
describe.if(DRIVERS.includes("postgres"))("a page while Postgres goes away and comes back [postgres]", () => {
  const outage = outageFixture();
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });

  for (const [viewport, scheme] of [
    ["desktop", "light"],
    ["phone", "dark"],
  ] as const) {
    test(`the banner and the composer say what is going on, and the answer is whole after (${viewport}, ${scheme})`, async () => {
      const { fake, server, db } = outage;
      const context = await signedInContext(browser, server, server, {
        viewport: VIEWPORTS[viewport],
        colorScheme: scheme,
      });
      const page = await context.newPage();
      try {
        const words = Array.from({ length: 120 }, (_, i) => `word${i + 1}`);
        fake.queue({ text: words.join(" "), tokenSize: 8, tokenDelayMs: 20 });
        await page.goto(server.url);
        await page.getByLabel("Message").fill("keep talking");
        await page.getByLabel("Message").press("Enter");
        await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
        const answer = page.locator("article[data-role=assistant]");
        await answer.getByText("word3", { exact: false }).waitFor();

        await db.cut();
        await page.locator("#service-status").getByText(UNAVAILABLE).waitFor();
        // The answer ends while the database is away: every word stays on the page.
        await answer.getByText("word120", { exact: false }).waitFor();
        await page.getByRole("button", { name: "Stop" }).click();
        await page.locator("#composer-status").getByText("The last answer is not saved yet").waitFor();
        await screenshot(page, join(ARTIFACTS, `database-away-${viewport}-${scheme}.png`));

        await db.reopen();
        // The page reconnects (the instance's live events resume) and reads the chat afresh.
        await page.locator('article[data-role=assistant][data-status="complete"]').waitFor({ timeout: 30_000 });
        await page.locator("#service-status").waitFor({ state: "hidden", timeout: 30_000 });
        expect((await answer.textContent())?.replace(/\s+/g, " ")).toContain(words.join(" "));
        await screenshot(page, join(ARTIFACTS, `database-back-${viewport}-${scheme}.png`));
      } finally {
        await closeContext(context);
      }
    }, 90_000);
  }
});
