import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { type Parley, runParley, signInAt, startParley } from "../support/process.ts";

const PASSWORD = "a long enough password";

/** Numbered words in paragraphs of ten, so a gap or a repeat in what a page shows is visible. */
const counted = (n: number) =>
  Array.from({ length: n }, (_, i) => `w${i + 1}${i % 10 === 9 ? "\n\n" : " "}`)
    .join("")
    .trim();

/**
 * How many of the counted words an answer shows, checking they are exactly w1, w2, … in order
 * (the last may still be arriving, so it may be the start of its word).
 */
async function wordsShown(page: Page, answerId: string): Promise<number> {
  // biome-ignore lint/performance/useDomNodeTextContent: paragraphs must stay apart, as a reader sees them
  const text = await page.locator(`#msg-${answerId} [data-body]`).innerText();
  const words = text.split(/\s+/).filter((w) => /^w\d*$/.test(w));
  words.forEach((word, i) => {
    const expected = `w${i + 1}`;
    if (i < words.length - 1) expect(word).toBe(expected);
    else expect(expected.startsWith(word)).toBe(true);
  });
  return words.length;
}

/** Two server processes on one Postgres, a person with a tab on each: what one writes, the other shows live. */
describe.if(DRIVERS.includes("postgres"))("in the browser, across two instances", () => {
  let t: TestDb;
  let fake: FakeUpstream;
  let browser: Browser;
  let a: Parley;
  let b: Parley;
  let cookie: string;
  beforeAll(async () => {
    browser = await launchBrowser();
    t = await freshDatabase("postgres");
    fake = startFakeUpstream();
    const env = { DATABASE_URL: t.url!, ...fakeEnv(fake) };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORD)).code).toBe(0);
    [a, b] = await Promise.all([startParley(env), startParley(env)]);
    cookie = await signInAt(a.url, "ann", PASSWORD);
  });
  afterAll(async () => {
    for (const p of [a, b]) if (p && p.proc.exitCode === null) await p.stop();
    await fake.stop();
    await t.close();
  });

  test("an answer written by one instance shows live on the other, word by word, nothing twice; Stop works from either", async () => {
    // The cookie is the site's (127.0.0.1), whichever port: the session is in the shared database.
    const context = await signedInContext(browser, a, { cookie }, { viewport: VIEWPORTS.desktop });
    const onA = await context.newPage();
    const onB = await context.newPage();
    try {
      fake.queue({ text: counted(160), tokenDelayMs: 30 });
      await onA.goto(a.url);
      await onA.getByLabel("Message").fill("count for me");
      await onA.getByLabel("Message").press("Enter");
      await onA.waitForURL(/\/chats\/[0-9a-f-]+$/);
      const path = new URL(onA.url()).pathname;
      const answer = onA.locator("article[data-role=assistant]").last();
      // The whole word, in whichever paragraph holds it first: by the time this looks, a later one
      // may hold "w3" too (seen: "w31 w32 w3", the start of w33, on a loaded machine).
      await answer
        .getByText(/\bw3\b/)
        .first()
        .waitFor();
      const answerId = (await answer.getAttribute("id"))!.slice("msg-".length);

      // Opened on B mid-answer: B catches up from the saved text, then follows A's stream.
      await onB.goto(b.url + path);
      const seen: number[] = [];
      for (let i = 0; i < 200 && (await onB.locator(`#msg-${answerId}[data-status=streaming]`).count()); i++) {
        seen.push(await wordsShown(onB, answerId));
        if (i === 3) await screenshot(onB, join(ARTIFACTS, "scale-out-b-streaming-desktop.png"));
        await Bun.sleep(100);
      }
      // It grew while watched (live, not only at the end), and never went back.
      expect(new Set(seen.filter((n) => n > 0 && n < 160)).size).toBeGreaterThan(3);
      expect(seen).toEqual([...seen].sort((x, y) => x - y));
      await onB.locator(`#msg-${answerId}[data-status=complete]`).waitFor();
      expect(await wordsShown(onB, answerId)).toBe(160);
      expect(await onB.locator(`#msg-${answerId} [data-body]`).innerHTML()).toBe(
        await onA.locator(`#msg-${answerId} [data-body]`).innerHTML(),
      );

      // Sent from B, written by B, shown live on A.
      fake.queue({ text: counted(400), tokenDelayMs: 30 });
      await onB.getByLabel("Message").fill("now count from B");
      await onB.getByLabel("Message").press("Enter");
      const second = onA.locator("article[data-role=assistant]").last();
      await onA.locator("article[data-role=user] [data-body]", { hasText: "now count from B" }).waitFor();
      await onA.locator(`#msg-${answerId} ~ article[data-role=assistant][data-status=streaming]`).waitFor();
      const secondId = (await second.getAttribute("id"))!.slice("msg-".length);
      expect(secondId).not.toBe(answerId);
      for (let i = 0; i < 200 && (await wordsShown(onA, secondId)) < 5; i++) await Bun.sleep(50);
      // Stop pressed on A, where the answer is not being written: B stops it.
      await onA.getByRole("button", { name: "Stop" }).click();
      for (const page of [onA, onB]) await page.locator(`#msg-${secondId}[data-status=stopped]`).waitFor();
      const kept = await wordsShown(onA, secondId);
      expect(kept).toBeGreaterThan(4);
      expect(kept).toBeLessThan(400);
      expect(await onB.locator(`#msg-${secondId} [data-body]`).innerHTML()).toBe(
        await onA.locator(`#msg-${secondId} [data-body]`).innerHTML(),
      );
      // Each message once on both pages, in the same order.
      const ids = (page: Page) => page.locator("article[id^=msg-]").evaluateAll((els) => els.map((e) => e.id));
      const [idsA, idsB] = [await ids(onA), await ids(onB)];
      expect(idsA).toHaveLength(4);
      expect(new Set(idsA).size).toBe(4);
      expect(idsB).toEqual(idsA);
      await onB.setViewportSize(VIEWPORTS.phone);
      await onB.emulateMedia({ colorScheme: "dark" });
      await onB.locator(`#msg-${secondId}`).scrollIntoViewIfNeeded();
      await screenshot(onB, join(ARTIFACTS, "scale-out-b-stopped-phone-dark.png"));
    } finally {
      await closeContext(context);
    }
  });
});
