import { beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { chats, messages } from "../../src/db/schema.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite, type OpenOptions } from "../support/e2e.ts";
import type { Person } from "../support/server.ts";

browserSuite("pglite", "the chat pages on a phone", { shots: "phone", upstream: false }, (s, t) => {
  let member: Person;
  const chatIds: string[] = [];
  beforeAll(async () => {
    member = await s.server.signUp("bob");
    for (const title of ["Trip planning", "Garden"]) {
      const [chat] = await t.database.db
        .insert(chats)
        .values({ userId: s.server.user.id, title, model: "fake/fast" })
        .returning();
      chatIds.push(chat!.id);
      const [question] = await t.database.db
        .insert(messages)
        .values({ id: Bun.randomUUIDv7(), chatId: chat!.id, role: "user", content: `About ${title}?` })
        .returning();
      await t.database.db.insert(messages).values({
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        parentId: question!.id,
        role: "assistant",
        content: "An answer.",
        html: "<p>An answer.</p>",
        model: "fake/fast",
        promptTokens: 12,
        completionTokens: 20,
        cost: 0.00012,
      });
    }
  });
  const open = async (path: string, options: OpenOptions = { phone: true }) => {
    const { page } = await s.open(options);
    await page.goto(s.server.url + path, { waitUntil: "load" });
    return page;
  };
  const box = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => {
      const r = el.getBoundingClientRect();
      return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, width: r.width, height: r.height };
    });
  const focused = (page: Page) =>
    page.evaluate(() => {
      const el = document.activeElement;
      return el ? `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}:${el.getAttribute("aria-label") ?? ""}` : "";
    });
  const inSidebar = (page: Page) => page.evaluate(() => !!document.activeElement?.closest("#sidebar"));

  test("the chat list is a drawer over the page: Esc, a tap outside and choosing a chat close it; focus stays in it", async () => {
    const page = await open(`/chats/${chatIds[0]}`);
    const toggle = page.getByRole("button", { name: "Chats", exact: true });
    const transcriptTop = (await box(page, "#transcript")).top;
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");

    await toggle.click();
    expect(await page.locator("#sidebar").isVisible()).toBe(true);
    expect(await toggle.getAttribute("aria-expanded")).toBe("true");
    // Over the page: the page has not moved, and the drawer covers its left part from the top.
    expect((await box(page, "#transcript")).top).toBe(transcriptTop);
    const drawer = await box(page, "#sidebar");
    expect(drawer.top).toBe(0);
    expect(drawer.left).toBe(0);
    expect(drawer.height).toBe(844);
    expect(drawer.width).toBeLessThan(390);
    await s.shot(page, "drawer-open");
    // Focus went in, and Tab (forwards and back, many times) never leaves it.
    expect(await inSidebar(page)).toBe(true);
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press("Tab");
      expect(await inSidebar(page)).toBe(true);
    }
    for (let i = 0; i < 15; i++) {
      await page.keyboard.press("Shift+Tab");
      expect(await inSidebar(page)).toBe(true);
    }
    // Esc closes it, and focus is back on the button.
    await page.keyboard.press("Escape");
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    expect(await toggle.getAttribute("aria-expanded")).toBe("false");
    expect(await focused(page)).toBe("button:Chats");

    // A tap outside it (on the page it covers) closes it.
    await toggle.tap();
    expect(await page.locator("#sidebar").isVisible()).toBe(true);
    await page.touchscreen.tap(370, 400);
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    expect(await focused(page)).toBe("button:Chats");

    // Choosing a chat opens it, and the list is closed there (and on going back).
    await toggle.tap();
    await page.getByRole("link", { name: "Garden" }).tap();
    await page.waitForURL(`${s.server.url}/chats/${chatIds[1]}`);
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    await page.goBack();
    await page.waitForURL(`${s.server.url}/chats/${chatIds[0]}`);
    expect(await page.locator("#sidebar").isVisible()).toBe(false);
    expect(await page.evaluate(() => document.querySelectorAll("[inert]").length)).toBe(0);
  });

  test("the desktop keeps its sidebar beside the chat, with no drawer button", async () => {
    const page = await open(`/chats/${chatIds[0]}`, { viewport: VIEWPORTS.desktop });
    expect(await page.locator("#sidebar").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Chats", exact: true }).isVisible()).toBe(false);
    expect(await page.getByRole("button", { name: "Chat actions" }).isVisible()).toBe(false);
    expect((await box(page, "#sidebar")).right).toBeLessThanOrEqual((await box(page, "main")).left);
    // The actions sit in the header row, beside the title (the rarer ones in its More menu).
    const title = await box(page, "#chat-title");
    for (const name of ["Settings", "Share", "More actions"]) {
      const button = await page.getByRole("button", { name, exact: true }).boundingBox();
      expect(Math.abs(button!.y + button!.height / 2 - (title.top + title.height / 2))).toBeLessThan(4);
    }
  });

  test("the header is one row; the chat actions are a menu under ⋯ that the keyboard opens and Esc closes", async () => {
    const page = await open(`/chats/${chatIds[0]}`);
    const header = await box(page, "main > div:has(#chat-title)");
    expect(header.height).toBeLessThanOrEqual(56);
    expect((await box(page, "#chat-title")).width).toBeGreaterThan(150);
    const menu = page.locator("#chat-actions");
    const toggle = page.getByRole("button", { name: "Chat actions" });
    // The popover's button says whether it is expanded (Chromium exposes it, no attribute needed).
    const expanded = (state: boolean) => page.getByRole("button", { name: "Chat actions", expanded: state });
    expect(await menu.isVisible()).toBe(false);
    expect(await expanded(false).count()).toBe(1);

    // Keyboard: focus the button, Enter opens, Tab goes through the menu's items.
    await toggle.focus();
    await page.keyboard.press("Enter");
    expect(await menu.isVisible()).toBe(true);
    // Chromium's accessibility tree follows the popover a moment later: waited for, not read at once.
    await expanded(true).waitFor();
    // It hangs under the button, inside the screen.
    const panel = await box(page, "#chat-actions");
    expect(panel.top).toBeGreaterThanOrEqual((await box(page, "[popovertarget=chat-actions]")).bottom);
    expect(panel.right).toBeLessThanOrEqual(390);
    expect(panel.left).toBeGreaterThanOrEqual(0);
    await s.shot(page, "actions-open");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => !!document.activeElement?.closest("#chat-actions"))).toBe(true);
    for (const name of ["Settings", "Share", "Delete"]) {
      const item = await menu.getByRole("button", { name, exact: true }).boundingBox();
      expect(item!.height).toBeGreaterThanOrEqual(44);
    }
    // The desktop's More button is not in it: its rows are.
    expect(await menu.getByRole("button", { name: "More actions" }).isVisible()).toBe(false);
    await page.keyboard.press("Escape");
    expect(await menu.isVisible()).toBe(false);
    expect(await focused(page)).toBe("button:Chat actions");

    // A tap outside closes it too; an item opens what it says (Share's dialog).
    await toggle.tap();
    await page.touchscreen.tap(200, 600);
    expect(await menu.isVisible()).toBe(false);
    await toggle.tap();
    await menu.getByRole("button", { name: "Share", exact: true }).tap();
    await page.getByRole("dialog", { name: "Share this chat" }).waitFor();
    expect(await page.getByRole("dialog", { name: "Share this chat" }).isVisible()).toBe(true);
  });

  test("targets: at least 24 px under messages, 44 px for Send, the menu and the drawer buttons", async () => {
    const page = await open(`/chats/${chatIds[0]}`);
    const small = await page.locator("article footer").evaluateAll((footers) =>
      footers.flatMap((f) =>
        Array.from(f.querySelectorAll("button, summary, a, [data-siblings] span[aria-hidden]")).map((el) => {
          const r = el.getBoundingClientRect();
          return { what: el.textContent?.trim(), width: r.width, height: r.height };
        }),
      ),
    );
    expect(small.length).toBeGreaterThanOrEqual(4);
    for (const target of small) {
      expect(target.height, `${target.what}`).toBeGreaterThanOrEqual(24);
      expect(target.width, `${target.what}`).toBeGreaterThanOrEqual(24);
    }
    for (const selector of [
      "#composer-controls button",
      "[data-toggle=sidebar]",
      "[popovertarget=chat-actions]",
      "label:has([data-attach])",
    ]) {
      const { width, height } = await box(page, selector);
      expect(height, selector).toBeGreaterThanOrEqual(44);
      expect(width, selector).toBeGreaterThanOrEqual(44);
    }
  });

  test("the message box is not focused on load on a touch screen (no keyboard popping up); it is with a mouse", async () => {
    for (const path of ["/", `/chats/${chatIds[0]}`]) {
      const touch = await open(path);
      expect(await focused(touch)).not.toStartWith("textarea");
      const desktop = await open(path, { viewport: VIEWPORTS.desktop });
      await desktop.waitForFunction(() => document.activeElement?.id === "message");
    }
  });

  test("the chat's total cost and its answer's cost follow one rounding rule", async () => {
    const page = await open(`/chats/${chatIds[0]}`);
    await page.getByRole("button", { name: "Chat actions" }).click();
    expect(await page.locator("#chat-usage").textContent()).toBe("32 tokens · $0.00012");
    expect(await page.locator('article[data-role="assistant"] footer').textContent()).toContain("$0.00012");
  });

  test("a refused Add person keeps the username (never the password); a non-admin at /admin gets a page with a way back", async () => {
    const page = await open("/admin");
    // Each person's chats are counted (the page once said "0 chats" of everyone).
    expect(await page.locator(`#user-${s.server.user.id}`).textContent()).toContain("admin · 2 chats · you");
    expect(await page.locator(`#user-${member.user.id}`).textContent()).toContain("0 chats");
    await page.getByLabel("Username").fill("tester");
    await page.locator("#field-password").fill("a long enough password");
    await page.getByLabel("Admin (can add and remove people)").check();
    await page.getByRole("button", { name: "Add user" }).click();
    await page.getByRole("alert").waitFor();
    expect(await page.getByRole("alert").textContent()).toContain("taken");
    expect(await page.getByLabel("Username").inputValue()).toBe("tester");
    expect(await page.locator("#field-password").inputValue()).toBe("");
    expect(await page.getByLabel("Admin (can add and remove people)").isChecked()).toBe(true);

    const { page: bob } = await s.open({ phone: true, person: member });
    const res = await bob.goto(`${s.server.url}/admin`);
    expect(res?.status()).toBe(403);
    expect(await bob.getByRole("heading", { level: 1 }).textContent()).toBe("Not for you");
    expect(await bob.getByText("Only an admin can do that").isVisible()).toBe(true);
    // Styled like every page (the stylesheet loaded), and the link leads home.
    expect(await bob.evaluate(() => getComputedStyle(document.body).backgroundColor)).toBe("rgb(255, 255, 255)");
    await s.shot(bob, "forbidden");
    await bob.getByRole("link", { name: "Back to your chats" }).tap();
    await bob.waitForURL(`${s.server.url}/`);
  });
});
