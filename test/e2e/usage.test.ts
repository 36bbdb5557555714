import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
const DAY = 24 * 60 * 60 * 1000;

oneDriver("pglite", "the usage pages and the audit log in Chromium", (t) => {
  let server: TestServer;
  let ann: Person;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    server = await startTestServer(t, {}, { username: "admin-ada" });
    ann = await server.signUp("ann");
    const bob = await server.signUp("bob");
    // A month of answers: a few models, most days something.
    const models = ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4", "google/gemini-2.5-flash"];
    // Each on its own UTC day, today's included: an hour ago, unless that was yesterday (a run
    // just after midnight UTC put nothing on today and the oldest a day before the 30 shown).
    const today = Date.parse(`${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    const latest = Math.max(today, Date.now() - 3600_000);
    for (let d = 0; d < 30; d++) {
      for (const [i, who] of [ann, bob].entries()) {
        if ((d + i) % 4 === 3) continue;
        const at = new Date(latest - d * DAY).toISOString();
        const cost = ((d * 7 + i * 13) % 11) / 20 + 0.01;
        await t.database.rows(sql`insert into usage (id, user_id, kind, model, estimate, prompt_tokens, completion_tokens, cost, created_at, settled_at)
          values (${Bun.randomUUIDv7()}, ${who.user.id}, 'answer', ${models[(d + i) % 3]}, ${cost * 2}, ${1000 + d * 37}, ${200 + d * 11}, ${cost}, ${at}, ${at})`);
      }
    }
  });
  afterAll(() => server.stop());
  afterEach(async () => {
    for (const context of contexts.splice(0)) await closeContext(context).catch(() => {});
  });

  const open = async (who: Person, path: string) => {
    const context = await signedInContext(browser, server, who, { viewport: SIZES.desktop });
    contexts.push(context);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));
    await page.goto(`${server.url}${path}`);
    return { page, problems };
  };

  /** The whole page (or one section) in both sizes and both schemes, for people to look at. */
  const shots = async (page: Page, name: string, section?: string) => {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        const path = join(ARTIFACTS, `${name}-${size}-${scheme}-${t.driver}.png`);
        const target = section ? page.locator("section", { has: page.getByRole("heading", { name: section }) }) : page;
        await screenshot(target, path, { caret: "initial", ...(section ? {} : { fullPage: true }) });
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };

  test("the admin reaches Usage from the admin page, sees the chart and the tables, and chooses a shorter period", async () => {
    const { page, problems } = await open(server, "/admin");
    await page.getByRole("link", { name: "Usage" }).click();
    await page.waitForURL(/\/admin\/usage$/);
    const chart = page.getByRole("img", { name: /Cost per day/ });
    await chart.waitFor();
    // Bars take the text colour, and that colour differs between light and dark.
    const bar = page.locator("#usage-chart rect").first();
    const light = await bar.evaluate((el) => getComputedStyle(el).fill);
    await page.emulateMedia({ colorScheme: "dark" });
    const dark = await bar.evaluate((el) => getComputedStyle(el).fill);
    await page.emulateMedia({ colorScheme: "light" });
    expect(light).not.toBe(dark);
    expect(await page.locator("#usage-chart rect").count()).toBe(30);
    await expect(page.getByRole("table", { name: "By person" }).getByRole("row").count()).resolves.toBe(3);
    await shots(page, "usage-admin");

    await page.getByLabel("Period").selectOption("7");
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/period=7/);
    expect(await page.locator("#usage-chart rect").count()).toBe(7);
    await page.getByLabel("Person", { exact: true }).selectOption({ label: "bob" });
    await page.getByRole("button", { name: "Show" }).click();
    await page.waitForURL(/person=/);
    await expect(page.getByRole("table", { name: "By person" }).count()).resolves.toBe(0);

    // Bad dates come back as a sentence on the same page.
    await page.getByLabel("Period").selectOption("custom");
    await page.getByLabel("From", { exact: true }).fill("2025-03-01");
    await page.getByLabel("To", { exact: true }).fill("2025-02-01");
    await page.getByRole("button", { name: "Show" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe("The from date is after the to date: swap them.");
    expect(problems.filter((p) => !p.includes("400"))).toEqual([]);
  });

  test("a person's own usage on the account page: their chart and tables, a period chosen in place", async () => {
    const { page, problems } = await open(ann, "/account");
    const section = page.locator("section", { has: page.getByRole("heading", { name: "Usage" }) });
    await section.getByRole("img", { name: /Cost per day/ }).waitFor();
    await expect(section.getByRole("table", { name: "By person" }).count()).resolves.toBe(0);
    await expect(section.getByRole("link", { name: "Download as CSV" }).getAttribute("href")).resolves.toBe(
      "/account/usage.csv?period=30",
    );
    await shots(page, "usage-account", "Usage");
    await section.getByLabel("Period").selectOption("7");
    await section.getByRole("button", { name: "Show" }).click();
    // Ann spent something on six of the last seven days (see the set-up).
    for (let i = 0; i < 100 && (await section.locator("#usage-chart rect").count()) !== 6; i++) await Bun.sleep(25);
    expect(await section.locator("#usage-chart rect").count()).toBe(6);
    await expect(section.getByRole("link", { name: "Download as CSV" }).getAttribute("href")).resolves.toBe(
      "/account/usage.csv?period=7",
    );
    // Still the account page: the form asked for its fragment only.
    expect(new URL(page.url()).pathname).toBe("/account");
    expect(problems).toEqual([]);
  });

  test("the audit log: the admin filters by action and sees who signed in", async () => {
    const { page, problems } = await open(server, "/admin");
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.waitForURL(/\/admin\/audit$/);
    const entries = page.getByRole("list", { name: "Audit log entries" });
    await entries.waitFor();
    await shots(page, "audit-log");
    await page.getByLabel("Action").selectOption({ label: "Signed in" });
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/action=signin/);
    const texts = await entries.getByRole("listitem").allTextContents();
    expect(texts.length).toBeGreaterThanOrEqual(3);
    for (const text of texts) expect(text).toContain("Signed in");
    expect(problems).toEqual([]);
  });
});
