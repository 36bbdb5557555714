import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(async () => {
  await fake?.stop();
});

oneDriver("pglite", "sending while the connection is down", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const shot = async (page: Page, name: string) => {
    const dir = process.env.SHOTS_DIR ?? ARTIFACTS;
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, `${name}-${t.driver}.png`) });
  };

  test("the message shows as queued, can be cancelled, and goes once when the server is back, saying so", async () => {
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    const port = Number(new URL(server.url).port);
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      fake.queue({ text: "Hello there." });
      await page.goto(server.url);
      await page.getByLabel("Message").fill("Hello");
      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();

      // Tries to reconnect come every two seconds at most (htmx-ext-ws's own wait grows to 64 s),
      // so the message below goes soon after the server is back.
      const waits = await page.evaluate(() => {
        const delay = (window as unknown as { htmx: { config: { wsReconnectDelay: unknown } } }).htmx.config
          .wsReconnectDelay;
        return typeof delay === "function" ? Array.from({ length: 12 }, (_, n) => delay(n) as number) : [];
      });
      expect(waits).toHaveLength(12);
      expect(Math.max(...waits)).toBeLessThanOrEqual(2000);

      await server.stop();
      await page.locator("#connection-status").waitFor({ state: "visible" });
      const box = page.getByLabel("Message");
      const queued = page.locator("#queued");
      await box.fill("Sent while away");
      await box.press("Enter");
      await queued.getByText("Queued — will send when reconnected").waitFor();
      await expect(queued.textContent()).resolves.toContain("Sent while away");
      await expect(box.inputValue()).resolves.toBe("");
      await shot(page, "queued-desktop-light");
      await page.setViewportSize(VIEWPORTS.phone);
      await page.emulateMedia({ colorScheme: "dark" });
      await shot(page, "queued-phone-dark");
      await page.setViewportSize(VIEWPORTS.desktop);
      await page.emulateMedia({ colorScheme: "light" });

      // Cancel gives the words back; sent again, it waits again.
      await queued.getByRole("button", { name: "Cancel" }).click();
      await queued.waitFor({ state: "hidden" });
      await expect(box.inputValue()).resolves.toBe("Sent while away");
      await box.press("Enter");
      await queued.waitFor({ state: "visible" });
      // One message waits at a time; what is typed meanwhile stays in the box.
      await box.fill("typed meanwhile");
      await box.press("Enter");
      await page.locator("#composer-status").getByText("already waiting").waitFor();
      await expect(box.inputValue()).resolves.toBe("typed meanwhile");

      fake.queue({ text: "Got it, once." });
      server = await startTestServer(t, fakeEnv(fake), { port });
      await page
        .locator("#composer-status")
        .getByText(/^Sent at /)
        .waitFor({ timeout: 30_000 });
      await page.getByText("Got it, once.").waitFor();
      await queued.waitFor({ state: "hidden" });
      await expect(box.inputValue()).resolves.toBe("typed meanwhile");
      await shot(page, "queued-sent-desktop-light");
      const sent = page.locator('article[data-role="user"]', { hasText: "Sent while away" });
      await expect(sent.count()).resolves.toBe(1);
      // Never twice, in the database either.
      await page.reload();
      await page.getByText("Got it, once.").waitFor();
      await expect(sent.count()).resolves.toBe(1);
      expect(problems).toEqual([]);
    } finally {
      await closeContext(context);
    }
  });

  test("Stop, Edit and the like are refused with a sentence while disconnected, not held for later", async () => {
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    const port = Number(new URL(server.url).port);
    try {
      fake.queue({ text: "First." });
      await page.goto(server.url);
      await page.getByLabel("Message").fill("Question");
      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
      await server.stop();
      await page.locator("#connection-status").waitFor({ state: "visible" });
      const question = page.locator('article[data-role="user"]').first();
      await question.getByText("Edit", { exact: true }).click();
      await question.getByLabel("Your edit").fill("Question, edited offline");
      await question.getByRole("button", { name: "Send" }).click();
      await page.locator("#composer-status").getByText("Not connected").waitFor();

      server = await startTestServer(t, fakeEnv(fake), { port });
      await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
      // The refused edit was not sent on reconnecting: the question is as it was.
      await page.reload();
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
      await expect(page.getByText("Question, edited offline").count()).resolves.toBe(0);
    } finally {
      await closeContext(context);
    }
  });
});
