import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { FAKE_MODELS, FAKE_PAINTER, type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { png } from "../files/samples.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream({
    models: [...FAKE_MODELS, FAKE_PAINTER],
  });
});
afterAll(async () => {
  await fake?.stop();
});

/** Whether an <img> has loaded and decoded (its bytes came from /files/<id>, and were an image). */
const loaded = (img: Locator) =>
  img.evaluate((el) => (el as HTMLImageElement).complete && (el as HTMLImageElement).naturalWidth);

oneDriver("pglite", "images in answers, in Chromium", (t) => {
  let server: TestServer;
  let context: BrowserContext;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());
  afterEach(async () => {
    if (context?.pages().length) await closeContext(context).catch(() => {});
  });

  test("an image the model sends shows in the answer while its words stream, stays when it ends, and after a reload", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Paint", model: "fake/painter" })
      .returning();
    context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop, colorScheme: "light" });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${server.url}/chats/${chat!.id}`);

    fake.queue({
      text: "Here is a small picture of a sunset over the hills, as asked. I hope you like the colours.",
      tokenSize: 4,
      tokenDelayMs: 40,
      images: [png(64, 40, 7).toString("base64")],
      imagesAtToken: 2,
    });
    await page.getByLabel("Message").fill("Paint me a sunset");
    await page.getByLabel("Message").press("Enter");
    const answer = page.locator('article[data-role="assistant"]').last();
    const image = answer.locator("[data-answer-images] img");
    await image.waitFor();
    expect(await answer.getAttribute("data-status")).toBe("streaming");
    await answer.and(page.locator('[data-status="complete"]')).waitFor();
    expect(await image.count()).toBe(1);
    await expect(loaded(image)).resolves.toBe(64);
    await expect(image.getAttribute("alt")).resolves.toBe("Made by the model (1 of 1)");
    await screenshot(page, join(ARTIFACTS, `answer-image-${t.driver}.png`));

    await page.reload();
    const again = page.locator('article[data-role="assistant"]').last().locator("[data-answer-images] img");
    await again.waitFor();
    await expect(loaded(again)).resolves.toBe(64);
    expect(problems).toEqual([]);
    await closeContext(context);
  });
});
