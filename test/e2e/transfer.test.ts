import { afterAll, afterEach, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { openChatMenu } from "../support/e2e.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { seedChat } from "../transfer/support.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(async () => {
  await fake?.stop();
});

const RECIPE = ["# Bread", "", "Mix **flour** and water:", "", "```python", "knead(minutes=10)", "```"].join("\n");

oneDriver("postgres", "export and import in Chromium", (t) => {
  let server: TestServer;
  let context: BrowserContext;
  const downloads = mkdtempSync(join(tmpdir(), "parley-downloads-"));
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    await seedChat(t, server.user.id, { title: "Baking bread", model: "fake/smart" }, [
      { role: "user", content: "How do I bake bread?" },
      { role: "assistant", content: RECIPE, html: renderMarkdown(RECIPE), model: "fake/smart", completionTokens: 9 },
      { role: "user", content: "And rye?" },
      { role: "assistant", content: "Use *rye* flour.", html: renderMarkdown("Use *rye* flour."), model: "fake/smart" },
    ]);
    await seedChat(t, server.user.id, { title: "Trip to Porto", updatedAt: new Date("2026-01-03T09:00:00Z") }, [
      { role: "user", content: "Where to eat in Porto?" },
      {
        role: "assistant",
        content: "Try a *francesinha*.",
        html: renderMarkdown("Try a *francesinha*."),
        model: "fake/fast",
      },
    ]);
  });
  afterAll(async () => {
    await server.stop();
    rmSync(downloads, { recursive: true, force: true });
  });
  afterEach(async () => {
    if (context?.pages().length) await closeContext(context).catch(() => {});
  });

  const shot = (page: Page, name: string) =>
    screenshot(page, join(ARTIFACTS, `${name}-${t.driver}.png`), { fullPage: true });
  /** Every viewport and colour scheme, one screenshot each. */
  const shots = async (page: Page, name: string) => {
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await shot(page, `${name}-${width}-${scheme}`);
      }
    }
    await page.setViewportSize(VIEWPORTS.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };
  /** What the sidebar lists, and each chat as it reads: who wrote each message, and its text. */
  const transcripts = async (page: Page) => {
    await page.goto(server.url);
    const titles = await page.locator("#chat-nav li a").allTextContents();
    const chats: Record<string, string[]> = {};
    for (const title of titles.map((x) => x.trim())) {
      await page.goto(server.url);
      await page.locator("#chat-nav").getByRole("link", { name: title, exact: true }).click();
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await page.locator("article").first().waitFor();
      chats[title] = await page
        .locator("article")
        .evaluateAll((articles) =>
          articles.map((a) => `${a.getAttribute("data-role")}: ${a.querySelector("[data-body]")?.innerHTML.trim()}`),
        );
    }
    return chats;
  };

  test("export all, delete the chats, import the file: the same chats, listed and opened with the same messages", async () => {
    context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop, acceptDownloads: true });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    page.on("pageerror", (e) => problems.push(e.message));

    const before = await transcripts(page);
    expect(Object.keys(before)).toEqual(["Trip to Porto", "Baking bread"]);
    expect(before["Baking bread"]![1]).toContain("<h1>Bread</h1>");

    // One chat, from its header's Export menu.
    await openChatMenu(page);
    await page.getByText("Export", { exact: true }).click();
    await shots(page, "transfer-export-menu");
    const [markdown] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Markdown" }).click(),
    ]);
    expect(markdown.suggestedFilename()).toBe("Baking bread.md");
    const markdownPath = join(downloads, "one.md");
    await markdown.saveAs(markdownPath);
    expect(readFileSync(markdownPath, "utf8")).toStartWith("# Baking bread\n");

    // All of them, from the account page.
    await page.goto(`${server.url}/account`);
    await shots(page, "transfer-account");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Export all chats" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^parley-chats-\d{4}-\d{2}-\d{2}\.json$/);
    const file = join(downloads, download.suggestedFilename());
    await download.saveAs(file);
    expect(JSON.parse(readFileSync(file, "utf8")).chats).toHaveLength(2);

    // Delete both, as a person does: from each chat's page, confirming.
    for (const title of Object.keys(before)) {
      await page.goto(server.url);
      await page.locator("#chat-nav").getByRole("link", { name: title, exact: true }).click();
      await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
      await openChatMenu(page);
      await page.getByRole("button", { name: "Delete" }).click();
      await page.getByRole("button", { name: "Delete chat" }).click();
      await page.waitForURL(`${server.url}/`);
    }
    await expect(page.locator("#chat-nav li").count()).resolves.toBe(0);

    // Import the file through the form.
    await page.goto(`${server.url}/account`);
    await page.getByLabel("File to import").setInputFiles(file);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await page.waitForURL(/\/account\/import\?/);
    await expect(page.getByRole("status").textContent()).resolves.toBe("Imported 2 chats with 6 messages.");
    await shots(page, "transfer-imported");

    await page.getByRole("link", { name: "Open your chats →" }).click();
    await page.waitForURL(`${server.url}/`);
    expect(await transcripts(page)).toEqual(before);

    // A file that is not an export is refused, and says why.
    const bad = join(downloads, "notes.json");
    await Bun.write(bad, '{"notes": ["not a chat"]}');
    await page.goto(`${server.url}/account`);
    await page.getByLabel("File to import").setInputFiles(bad);
    await page.getByRole("button", { name: "Import", exact: true }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe(
      "The file is neither a Parley export nor ChatGPT's conversations.json. Nothing was imported.",
    );
    await shots(page, "transfer-refused");
    expect(Object.keys(await transcripts(page))).toEqual(["Trip to Porto", "Baking bread"]);

    // Chromium logs the refused import's 400; that was the point.
    expect(problems.filter((p) => !/status of 400 /.test(p))).toEqual([]);
  });
});
