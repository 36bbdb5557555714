import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, VIEWPORTS } from "../support/browser.ts";
import { freshDatabase, oneDriver, type TestDb } from "../support/db.ts";
import { type BareServer, startBareServer, TEST_PASSWORD } from "../support/server.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** Console errors and page errors: a page that looks right but logs a CSP violation is not right. */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}

oneDriver("postgres", "accounts in Chromium", (t) => {
  let server: BareServer;
  beforeAll(() => {
    server = startBareServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  test("first visit: create the admin account, chat, sign out in one tab and the other tab follows; sign in again", async () => {
    const context = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await context.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    expect(new URL(page.url()).pathname).toBe("/setup");
    await page.getByLabel("Username").fill("Ada");
    await page.getByLabel("Password").fill("short");
    // The browser's own check (minlength) holds the form back; the server's sentence covers the rest.
    await page.getByLabel("Password").fill("1234567890");
    await page.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe(
      "That password is too easy to guess: it is among the hundred most used passwords; add a few less common words.",
    );
    await page.getByLabel("Password").fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(`${server.url}/`);
    await expect(page.getByRole("link", { name: "ada" }).isVisible()).resolves.toBe(true);

    // A chat in this tab; a second tab on the same chat.
    await page.getByLabel("Message").fill("Hello after signing up");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\//);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    const second = await context.newPage();
    await second.goto(page.url());
    await second.locator('article[data-role="assistant"][data-status="complete"]').waitFor();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(`${server.url}/signin`);
    // The other tab's socket is closed with 4001 and app.js sends it to sign in.
    await second.waitForURL(`${server.url}/signin`);
    await page.goto(server.url);
    expect(new URL(page.url()).pathname).toBe("/signin");

    await page.getByLabel("Username").fill("ada");
    await page.getByLabel("Password").fill("not the password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe(
      "That username and password do not match an account.",
    );
    await expect(page.getByLabel("Username").inputValue()).resolves.toBe("ada");
    await page.getByLabel("Password").fill(TEST_PASSWORD);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.url}/`);
    await expect(page.getByRole("link", { name: "Hello after signing up" }).count()).resolves.toBe(0);
    await expect(page.locator("#chat-nav li").count()).resolves.toBe(1);
    // Chromium logs the refused forms' 400 and 401 answers; those were the point.
    expect(problems.filter((p) => !/status of 40[01] /.test(p))).toEqual([]);
    await closeContext(context);
  });
});

// How the pages look depends on no database: looked at once, on the embedded one.
describe("the account pages in Chromium", () => {
  let t: TestDb;
  let server: BareServer;
  beforeAll(async () => {
    t = await freshDatabase("pglite");
    server = startBareServer(t);
  });
  afterAll(async () => {
    await server.stop();
    await t.close();
  });

  test("the sign-in, account and admin pages, looked at on a phone and a desktop, light and dark", async () => {
    const admin = await server.signUp("ada", { admin: true });
    await server.signUp("grace");
    // A context per size, signed out at the start of each scheme's look; the scheme is told, not a new context's.
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const problems = watch(page);
      for (const scheme of ["light", "dark"] as const) {
        await context.clearCookies();
        await page.emulateMedia({ colorScheme: scheme });
        await page.goto(`${server.url}/signin`);
        await expect(page.getByRole("heading", { name: "Sign in" }).isVisible()).resolves.toBe(true);
        await screenshot(page, join(ARTIFACTS, `signin-${width}-${scheme}.png`));
        const [name, value] = admin.cookie.split("=") as [string, string];
        await context.addCookies([{ name, value, url: server.url, httpOnly: true, sameSite: "Lax" }]);
        await page.goto(`${server.url}/account`);
        await expect(page.getByRole("heading", { name: "Where you are signed in" }).isVisible()).resolves.toBe(true);
        await expect(page.getByText("this device").isVisible()).resolves.toBe(true);
        await screenshot(page, join(ARTIFACTS, `account-${width}-${scheme}.png`), { fullPage: true });
        await page.goto(`${server.url}/admin`);
        await page.getByText("Manage").first().click();
        await expect(page.getByRole("button", { name: /Delete grace/ }).isVisible()).resolves.toBe(true);
        await screenshot(page, join(ARTIFACTS, `admin-${width}-${scheme}.png`), { fullPage: true });
      }
      expect(problems).toEqual([]);
      await closeContext(context);
    }
  });
});
