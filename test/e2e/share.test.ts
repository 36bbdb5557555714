import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserSuite, SIZES } from "../support/e2e.ts";

const ANSWER = [
  "Here is **the plan** for the garden:",
  "",
  "1. Sow the tomatoes in March.",
  "2. Plant them out in May.",
  "",
  "```python",
  "def water(plants):",
  "    return [p.watered() for p in plants]",
  "```",
  "",
  "> Patience is a gardener's tool.",
].join("\n");

const SUITE = { shots: "share", username: "gardener-ann" };
browserSuite("pglite", "sharing a chat in Chromium", SUITE, (s) => {
  /** Every page's console errors and uncaught exceptions, and the WebSockets it opened. */
  const watch = (page: Page) => {
    const seen = { problems: [] as string[], sockets: [] as string[] };
    page.on("console", (m) => m.type() === "error" && seen.problems.push(m.text()));
    page.on("pageerror", (e) => seen.problems.push(e.message));
    page.on("websocket", (ws) => seen.sockets.push(ws.url()));
    return seen;
  };

  test("publish from the chat's Share dialog, read the link signed out, stop sharing: the link is gone", async () => {
    const ownerContext = await s.context({ clipboard: true });
    const owner = await ownerContext.newPage();
    const ownerSeen = watch(owner);

    // Another chat of the same person, which the shared page must not show.
    await owner.goto(s.server.url);
    await owner.getByLabel("Message").fill("Secret recipe for soup");
    await owner.getByLabel("Message").press("Enter");
    await owner.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await owner.locator('article[data-role="assistant"][data-status="complete"]').waitFor();

    s.fake.queue({ text: ANSWER, tokenDelayMs: 5, tokenSize: 8 });
    await owner.goto(s.server.url);
    await owner.getByLabel("Message").fill("How do I grow tomatoes?");
    await owner.getByLabel("Message").press("Enter");
    await owner.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await owner.locator('article[data-role="assistant"][data-status="complete"]').waitFor();

    // Share → Create a link → the dialog shows the link and copies it.
    await owner.getByRole("button", { name: "Share", exact: true }).click();
    const dialog = owner.getByRole("dialog", { name: "Share this chat" });
    await dialog.getByRole("button", { name: "Create a link" }).click();
    const field = dialog.getByLabel("Your new link");
    await field.waitFor();
    const link = await field.inputValue();
    expect(link).toMatch(new RegExp(`^${s.server.url}/s/[A-Za-z0-9_-]{32}$`));
    await dialog.getByRole("button", { name: "Copy" }).click();
    await dialog.getByRole("button", { name: "Copied" }).waitFor();
    expect(await owner.evaluate(() => navigator.clipboard.readText())).toBe(link);
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await owner.setViewportSize(viewport);
        await owner.emulateMedia({ colorScheme: scheme });
        await s.shot(owner, `share-dialog-${size}-${scheme}`);
      }
    }
    await owner.setViewportSize(SIZES.desktop);
    await owner.emulateMedia({ colorScheme: "light" });

    // A fresh browser with no cookie: the chat, and nothing else.
    const readerContext = await s.context({ person: null });
    const reader = await readerContext.newPage();
    const readerSeen = watch(reader);
    const opened = await reader.goto(link);
    expect(opened?.status()).toBe(200);
    expect(opened?.headers()["referrer-policy"]).toBe("no-referrer");
    await expect(reader.getByRole("heading", { level: 1 }).textContent()).resolves.toContain("About How do");
    await expect(reader.locator('article[data-role="user"]').textContent()).resolves.toContain(
      "How do I grow tomatoes?",
    );
    const answer = reader.locator('article[data-role="assistant"]');
    await expect(answer.locator("strong").textContent()).resolves.toBe("the plan");
    await expect(answer.locator("ol li").count()).resolves.toBe(2);
    await expect(answer.locator("pre code .hljs-keyword").first().textContent()).resolves.toBe("def");
    await expect(reader.getByText("A read-only snapshot shared from Parley on").isVisible()).resolves.toBe(true);
    const text = (await reader.locator("body").textContent()) ?? "";
    expect(text).not.toContain("Secret recipe");
    expect(text).not.toContain("gardener-ann");
    for (const absent of ["#message", "#sidebar", "select", "[ws-connect]", "form"]) {
      expect([absent, await reader.locator(absent).count()]).toEqual([absent, 0]);
    }
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await reader.setViewportSize(viewport);
        await reader.emulateMedia({ colorScheme: scheme });
        await s.shot(reader, `shared-page-${size}-${scheme}`);
      }
    }

    // The account page lists the link too.
    const account = await ownerContext.newPage();
    await account.goto(`${s.server.url}/account`);
    const listed = account.locator("#shared-links li");
    await listed.first().waitFor();
    await expect(listed.count()).resolves.toBe(1);
    await expect(listed.textContent()).resolves.toContain("About How do");
    await account.close();

    // Stop sharing from the dialog: the row goes, and the reader's reload finds nothing.
    await dialog.getByRole("button", { name: "Stop sharing" }).click();
    await dialog.locator("li").waitFor({ state: "detached" });
    const reloaded = await reader.reload();
    expect(reloaded?.status()).toBe(404);
    await expect(reader.getByRole("heading", { level: 1 }).textContent()).resolves.toBe("There is nothing here");
    expect(((await reader.locator("body").textContent()) ?? "").includes("tomatoes")).toBe(false);

    expect(readerSeen.sockets).toEqual([]);
    expect(readerSeen.problems.filter((p) => !p.includes("404"))).toEqual([]);
    expect(ownerSeen.problems).toEqual([]);
  });

  test("a link is revoked from the account page as well", async () => {
    const context = await s.context();
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("Share me from the account page");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await page.getByRole("button", { name: "Share", exact: true }).click();
    await page.getByRole("button", { name: "Create a link" }).click();
    const link = await page.getByLabel("Your new link").inputValue();

    await page.goto(`${s.server.url}/account`);
    const row = page.locator("#shared-links li", { hasText: "Share me" });
    await row.waitFor();
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await row.scrollIntoViewIfNeeded();
        await s.shot(page, `shared-links-${size}-${scheme}`);
      }
    }
    await row.getByRole("button", { name: "Stop sharing" }).click();
    await row.waitFor({ state: "detached" });
    const res = await fetch(link);
    expect(res.status).toBe(404);
    expect(seen.problems).toEqual([]);
  });
});
