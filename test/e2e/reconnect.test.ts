import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { TOO_MANY_SOCKETS } from "../../src/chat/socket.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { startTestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(async () => {
  await fake?.stop();
});

oneDriver("postgres", "when the connection drops", (t) => {
  const env = () => fakeEnv(fake);

  test("a server restart mid-answer: the page says so, reconnects, and shows what happened meanwhile", async () => {
    let server = await startTestServer(t, env());
    const port = Number(new URL(server.url).port);
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    try {
      fake.queue({ text: "streaming along ".repeat(400), tokenDelayMs: 20 });
      await page.goto(server.url);
      await page.getByLabel("Message").fill("survive a restart");
      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      const chatId = page.url().split("/").pop()!;
      await page.locator("article[data-role=assistant]").getByText("streaming along streaming").waitFor();

      await server.stop();
      await page.locator("#connection-status").getByText("Connection lost").waitFor({ state: "visible" });
      await screenshot(page, join(ARTIFACTS, `reconnecting-${t.driver}.png`));

      server = await startTestServer(t, env(), { port });
      // Someone else sends while this page is still away.
      fake.queue({});
      const other = await server.socket(`/ws?chat=${chatId}`);
      await other.waitFor((m) => m.includes('id="transcript-live"'));
      other.send({ action: "send", chat: chatId, content: "sent meanwhile" });
      const started = await other.waitFor((m) => m.includes("sent meanwhile") && m.includes('data-role="user"'));
      const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
      await other.waitFor(finished(answerId));
      await other.close();

      await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
      const interrupted = page.locator('article[data-role="assistant"][data-status="interrupted"]');
      await interrupted.waitFor();
      expect(((await interrupted.textContent()) ?? "").length).toBeGreaterThan(30);
      await expect(interrupted.getByRole("button", { name: "Retry" }).count()).resolves.toBe(1);
      await page.locator(`#msg-${answerId}[data-status="complete"]`).waitFor();
      // Nothing twice: each message once, in order.
      const ids = await page.locator("#transcript-live > article").evaluateAll((els) => els.map((e) => e.id));
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(4);
      await expect(page.locator('article[data-role="user"]').last().textContent()).resolves.toContain("sent meanwhile");
    } finally {
      await closeContext(context);
      await server.stop();
    }
  });

  test("leaving a chat mid-answer does not stop it; coming back shows it still streaming", async () => {
    const server = await startTestServer(t, env());
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    try {
      fake.queue({ text: "keep going ".repeat(150), tokenDelayMs: 15 });
      await page.goto(server.url);
      await page.getByLabel("Message").fill("do not stop when I leave");
      await page.getByLabel("Message").press("Enter");
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await page.locator("article[data-role=assistant]").getByText("keep going keep").waitFor();
      await page.getByRole("button", { name: "New chat" }).click();
      await page.waitForURL(`${server.url}/`);
      await page.goBack();
      await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor({ timeout: 20_000 });
      const text = (await page.locator("article[data-role=assistant] .markdown").textContent()) ?? "";
      expect(text.trim()).toBe("keep going ".repeat(150).trim());
    } finally {
      await closeContext(context);
      await server.stop();
    }
  });

  test("a tab past SOCKETS_PER_PERSON says why, without a reconnecting banner; the tab already open goes on", async () => {
    const server = await startTestServer(t, fakeEnv(fake, { SOCKETS_PER_PERSON: "1" }));
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    try {
      const first = await context.newPage();
      await first.goto(server.url);
      // A page just loaded hears nothing on connecting (it has it all): wait until its socket counts.
      while (server.app.decorator.sockets.size < 1) await Bun.sleep(20);

      const second = await context.newPage();
      await second.goto(server.url);
      const status = second.locator("#composer-status");
      await status.getByText(TOO_MANY_SOCKETS).waitFor();
      await expect(status.getAttribute("role")).resolves.toBe("alert");
      // Not "reconnecting": htmx-ext-ws does not retry after 4029.
      await expect(second.locator("#connection-status").isHidden()).resolves.toBe(true);
      await screenshot(second, join(ARTIFACTS, `too-many-tabs-${t.driver}.png`));
      // The first tab was not disturbed (test/chat/limits.test.ts shows it still sends and hears).
      await expect(first.locator("#connection-status").isHidden()).resolves.toBe(true);
    } finally {
      await closeContext(context);
      await server.stop();
    }
  });
});
