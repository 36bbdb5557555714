import { expect, test } from "bun:test";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite, openEditor } from "../support/e2e.ts";
import { startTestServer } from "../support/server.ts";

browserSuite("pglite", "sending while the connection is down", { shots: "offline-send" }, (s, t) => {
  test("the message shows as queued, can be cancelled, and goes once when the server is back, saying so", async () => {
    // Uncaught exceptions only: a page that loses its server logs the failed connections.
    const { page, errors: problems } = await s.open();
    const port = Number(new URL(s.server.url).port);
    s.fake.queue({ text: "Hello there." });
    await page.goto(s.server.url);
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

    await s.server.stop();
    await page.locator("#connection-status").waitFor({ state: "visible" });
    const box = page.getByLabel("Message");
    const queued = page.locator("#queued");
    await box.fill("Sent while away");
    await box.press("Enter");
    await queued.getByText("Queued — will send when reconnected").waitFor();
    await expect(queued.textContent()).resolves.toContain("Sent while away");
    await expect(box.inputValue()).resolves.toBe("");
    await s.shot(page, "queued-desktop-light");
    await page.setViewportSize(VIEWPORTS.phone);
    await page.emulateMedia({ colorScheme: "dark" });
    await s.shot(page, "queued-phone-dark");
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

    s.fake.queue({ text: "Got it, once." });
    s.server = await startTestServer(t, s.env, { port });
    await page
      .locator("#composer-status")
      .getByText(/^Sent at /)
      .waitFor({ timeout: 30_000 });
    await page.getByText("Got it, once.").waitFor();
    await queued.waitFor({ state: "hidden" });
    await expect(box.inputValue()).resolves.toBe("typed meanwhile");
    await s.shot(page, "queued-sent-desktop-light");
    const sent = page.locator('article[data-role="user"]', { hasText: "Sent while away" });
    await expect(sent.count()).resolves.toBe(1);
    // Never twice, in the database either.
    await page.reload();
    await page.getByText("Got it, once.").waitFor();
    await expect(sent.count()).resolves.toBe(1);
    expect(problems).toEqual([]);
  });

  test("Stop, Edit and the like are refused with a sentence while disconnected, not held for later", async () => {
    const { page } = await s.open();
    const port = Number(new URL(s.server.url).port);
    s.fake.queue({ text: "First." });
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("Question");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await s.server.stop();
    await page.locator("#connection-status").waitFor({ state: "visible" });
    const question = page.locator('article[data-role="user"]').first();
    await (await openEditor(page, question)).fill("Question, edited offline");
    await question.getByRole("button", { name: "Send" }).click();
    await page.locator("#composer-status").getByText("Not connected").waitFor();

    s.server = await startTestServer(t, s.env, { port });
    await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
    // The refused edit was not sent on reconnecting: the question is as it was.
    await page.reload();
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await expect(page.getByText("Question, edited offline").count()).resolves.toBe(0);
  });
});
