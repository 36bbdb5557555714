import { afterAll, beforeAll, expect, test } from "bun:test";
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

const ANSWER = [
  "# Notes",
  "",
  "Some **bold** words and a list:",
  "",
  "1. one",
  "2. two",
  "",
  "```js",
  "const x = 1;",
  "```",
].join("\n");

/** Every frame a page's socket receives, in order. */
function framesOf(page: Page): string[] {
  const frames: string[] = [];
  page.on("websocket", (ws) => ws.on("framereceived", (f) => frames.push(String(f.payload))));
  return frames;
}

oneDriver("postgres", "what a tab gets from its socket", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const finished = (page: Page) => page.locator('article[data-role="assistant"][data-status="complete"]');

  /** A chat of two exchanges, open in a new page; returns the page. */
  const chatWithTwoExchanges = async () => {
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    fake.queue({ text: ANSWER }, { text: ANSWER });
    await page.goto(server.url);
    await page.getByLabel("Message").fill("First question");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await finished(page).waitFor();
    await page.getByLabel("Message").fill("Second question");
    await page.getByLabel("Message").press("Enter");
    await finished(page).nth(1).waitFor();
    return { context, page };
  };

  test("a page just loaded gets nothing from its socket that it already shows", async () => {
    const { context, page } = await chatWithTwoExchanges();
    try {
      const frames = framesOf(page);
      await page.reload();
      await page.locator("#connection-status").waitFor({ state: "hidden" });
      // The page's own send is the first thing its socket hears: nothing was re-sent before it.
      fake.queue({ text: "Third answer." });
      await page.getByLabel("Message").fill("Third question");
      await page.getByLabel("Message").press("Enter");
      await page.getByText("Third answer.").waitFor();
      const first = frames.findIndex((f) => f.includes("Third question"));
      const before = frames.slice(0, first);
      const bytes = before.reduce((n, f) => n + Buffer.byteLength(f), 0);
      console.log(`bytes sent on connect after a page load: ${bytes} in ${before.length} frames`);
      expect(before).toEqual([]);
    } finally {
      await closeContext(context);
    }
  });

  test("after a drop, a tab gets only what it missed; an open Edit box keeps its draft", async () => {
    const { context, page } = await chatWithTwoExchanges();
    const port = Number(new URL(server.url).port);
    try {
      const chatId = page.url().split("/").pop()!;
      const question = page.locator('article[data-role="user"]').first();
      await question.getByText("Edit", { exact: true }).click();
      const box = question.getByLabel("Your edit");
      await box.fill("A draft being written");
      await page.screenshot({ path: join(ARTIFACTS, `sync-draft-before-${t.driver}.png`) });

      const frames = framesOf(page);
      await server.stop();
      await page.locator("#connection-status").waitFor({ state: "visible" });
      // Someone sends from another device, through another instance, while this tab is away.
      const elsewhere = await startTestServer(t, fakeEnv(fake));
      fake.queue({ text: "Answered meanwhile." });
      const other = await elsewhere.socket(`/ws?chat=${chatId}`);
      await other.waitFor((m) => m.includes('id="transcript-live"'));
      other.send({ action: "send", chat: chatId, content: "Sent meanwhile" });
      await other.waitFor((m) => m.includes("Answered meanwhile.") && m.includes('data-status="complete"'));
      await other.close();
      await elsewhere.stop();
      server = await startTestServer(t, fakeEnv(fake), { port });

      await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
      await page.getByText("Answered meanwhile.").waitFor();
      // Only the missed exchange came: not the whole conversation, not the chat list.
      const got = frames.join("");
      console.log(`bytes sent on reconnecting after a drop: ${Buffer.byteLength(got)} in ${frames.length} frames`);
      expect(got).not.toContain('id="transcript-live" hx-swap-oob="true"');
      expect(got).not.toContain(">First question</div>");
      expect(got).toContain("Sent meanwhile");
      const ids = await page.locator("#transcript-live > article").evaluateAll((els) => els.map((e) => e.id));
      expect(ids).toHaveLength(6);
      expect(new Set(ids).size).toBe(6);
      // The draft is where it was, still open, still focused.
      await expect(box.inputValue()).resolves.toBe("A draft being written");
      await expect(box.isVisible()).resolves.toBe(true);
      await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    } finally {
      await closeContext(context);
    }
  });

  test("a conversation changed elsewhere (a branch switch) is sent whole, and an open Edit box survives it", async () => {
    const { context, page } = await chatWithTwoExchanges();
    const port = Number(new URL(server.url).port);
    try {
      const chatId = page.url().split("/").pop()!;
      const question = page.locator('article[data-role="user"]').first();
      await question.getByText("Edit", { exact: true }).click();
      const box = question.getByLabel("Your edit");
      await box.fill("Still typing this");

      await server.stop();
      await page.locator("#connection-status").waitFor({ state: "visible" });
      // Elsewhere, the second question is edited: the branch shown changes under this tab.
      const elsewhere = await startTestServer(t, fakeEnv(fake));
      const second = await page.locator('article[data-role="user"]').nth(1).getAttribute("id");
      fake.queue({ text: "The edited answer." });
      const other = await elsewhere.socket(`/ws?chat=${chatId}`);
      await other.waitFor((m) => m.includes('id="transcript-live"'));
      other.send({ action: "edit", message: second!.slice(4), content: "Second question, edited" });
      await other.waitFor((m) => m.includes("The edited answer.") && m.includes('data-status="complete"'));
      await other.close();
      await elsewhere.stop();
      server = await startTestServer(t, fakeEnv(fake), { port });

      await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
      await page.getByText("The edited answer.").waitFor();
      expect(await page.getByText("Second question", { exact: true }).count()).toBe(0);
      await expect(box.inputValue()).resolves.toBe("Still typing this");
      await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    } finally {
      await closeContext(context);
    }
  });

  test("Regenerate shows ‹ 2 / 2 › at once, in this tab and in another tab on the chat", async () => {
    const { context, page } = await chatWithTwoExchanges();
    try {
      const second = await context.newPage();
      await second.goto(page.url());
      await finished(second).nth(1).waitFor();
      fake.queue({ text: "A second try." });
      await page.locator("#transcript-live > article").last().getByRole("button", { name: "Regenerate" }).click();
      for (const tab of [page, second]) {
        await tab.locator('article[data-status="complete"]').getByText("A second try.").waitFor();
        const answer = tab.locator("#transcript-live > article").last();
        await expect(answer.locator("[data-siblings]").textContent()).resolves.toContain("2 / 2");
        await answer.getByRole("button", { name: "Previous version" }).waitFor();
      }
      await page.screenshot({ path: join(ARTIFACTS, `regenerated-switch-${t.driver}.png`) });
    } finally {
      await closeContext(context);
    }
  });
});
