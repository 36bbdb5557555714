import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserSuite, openEditor } from "../support/e2e.ts";
import { startTestServer } from "../support/server.ts";
import type { TestSocket } from "../support/ws.ts";

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

browserSuite("postgres", "what a tab gets from its socket", { shots: "sync" }, (s, t) => {
  const finished = (page: Page) => page.locator('article[data-role="assistant"][data-status="complete"]');

  /** A chat of two exchanges, open in a new page; returns the page. */
  const chatWithTwoExchanges = async () => {
    const { context, page } = await s.open();
    s.fake.queue({ text: ANSWER }, { text: ANSWER });
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("First question");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await finished(page).waitFor();
    await page.getByLabel("Message").fill("Second question");
    await page.getByLabel("Message").press("Enter");
    await finished(page).nth(1).waitFor();
    return { context, page };
  };

  /**
   * Takes the server away from `page`, lets `meanwhile` change the chat from another device
   * (a socket on another instance, as the same person) while the tab is away, then brings the
   * server back on its port and waits for the tab to reconnect.
   */
  const whileAway = async (page: Page, chatId: string, meanwhile: (other: TestSocket) => Promise<void>) => {
    const port = Number(new URL(s.server.url).port);
    await s.server.stop();
    await page.locator("#connection-status").waitFor({ state: "visible" });
    const elsewhere = await startTestServer(t, s.env);
    const other = await elsewhere.socket(`/ws?chat=${chatId}`);
    await other.waitFor((m) => m.includes('id="transcript-live"'));
    await meanwhile(other);
    await other.close();
    await elsewhere.stop();
    s.server = await startTestServer(t, s.env, { port });
    await page.locator("#connection-status").waitFor({ state: "hidden", timeout: 30_000 });
  };

  test("a page just loaded gets nothing from its socket that it already shows", async () => {
    const { page } = await chatWithTwoExchanges();
    const frames = framesOf(page);
    await page.reload();
    await page.locator("#connection-status").waitFor({ state: "hidden" });
    // The page's own send is the first thing its socket hears: nothing was re-sent before it.
    s.fake.queue({ text: "Third answer." });
    await page.getByLabel("Message").fill("Third question");
    await page.getByLabel("Message").press("Enter");
    await page.getByText("Third answer.").waitFor();
    const first = frames.findIndex((f) => f.includes("Third question"));
    const before = frames.slice(0, first);
    const bytes = before.reduce((n, f) => n + Buffer.byteLength(f), 0);
    console.log(`bytes sent on connect after a page load: ${bytes} in ${before.length} frames`);
    expect(before).toEqual([]);
  });

  test("after a drop, a tab gets only what it missed; an open Edit box keeps its draft", async () => {
    const { page } = await chatWithTwoExchanges();
    const chatId = page.url().split("/").pop()!;
    const question = page.locator('article[data-role="user"]').first();
    const box = await openEditor(page, question);
    await box.fill("A draft being written");
    await s.shot(page, "sync-draft-before");

    const frames = framesOf(page);
    // Someone sends from another device, through another instance, while this tab is away.
    await whileAway(page, chatId, async (other) => {
      s.fake.queue({ text: "Answered meanwhile." });
      other.send({ action: "send", chat: chatId, content: "Sent meanwhile" });
      await other.waitFor((m) => m.includes("Answered meanwhile.") && m.includes('data-status="complete"'));
    });
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
  });

  test("a conversation changed elsewhere (a branch switch) is sent whole, and an open Edit box survives it", async () => {
    const { page } = await chatWithTwoExchanges();
    const chatId = page.url().split("/").pop()!;
    const question = page.locator('article[data-role="user"]').first();
    const box = await openEditor(page, question);
    await box.fill("Still typing this");

    const second = await page.locator('article[data-role="user"]').nth(1).getAttribute("id");
    // Elsewhere, the second question is edited: the branch shown changes under this tab.
    await whileAway(page, chatId, async (other) => {
      s.fake.queue({ text: "The edited answer." });
      other.send({ action: "edit", message: second!.slice(4), content: "Second question, edited" });
      await other.waitFor((m) => m.includes("The edited answer.") && m.includes('data-status="complete"'));
    });
    await page.getByText("The edited answer.").waitFor();
    expect(await page.getByText("Second question", { exact: true }).count()).toBe(0);
    await expect(box.inputValue()).resolves.toBe("Still typing this");
    await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
  });

  test("Regenerate shows ‹ 2 / 2 › at once, in this tab and in another tab on the chat", async () => {
    const { context, page } = await chatWithTwoExchanges();
    const second = await context.newPage();
    await second.goto(page.url());
    await finished(second).nth(1).waitFor();
    s.fake.queue({ text: "A second try." });
    await page.locator("#transcript-live > article").last().getByRole("button", { name: "Regenerate" }).click();
    for (const tab of [page, second]) {
      await tab.locator('article[data-status="complete"]').getByText("A second try.").waitFor();
      const answer = tab.locator("#transcript-live > article").last();
      await expect(answer.locator("[data-siblings]").textContent()).resolves.toContain("2 / 2");
      await answer.getByRole("button", { name: "Previous version" }).waitFor();
    }
    await s.shot(page, "regenerated-switch");
  });
});
