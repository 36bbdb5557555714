import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { browserSuite, openChatMenu, SIZES } from "../support/e2e.ts";

browserSuite("pglite", "projects in Chromium", { shots: "projects" }, (s, t) => {
  /** The page at each size and scheme, as `<name>-<size>-<scheme>.png`; back to desktop light after. */
  async function shoot(page: Page, name: string, before?: (size: string) => Promise<unknown>) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await before?.(size);
        await s.shot(page, `${name}-${size}-${scheme}`);
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  }
  const projectOf = async (id: string) =>
    (await t.database.db.select().from(chats).where(eq(chats.id, id)))[0]?.projectId;
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; i < 400 && !(await check()); i++) await Bun.sleep(25);
    expect(await check()).toBe(true);
  };
  const connected = (page: Page) => page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);

  test("a project with instructions, a chat in it whose request carries them, moved in and out by keyboard, deleted keeping its chats", async () => {
    const { page, problems } = await s.open({ watchSocket: true });

    // Made on the Projects page.
    await page.goto(`${s.server.url}/projects`);
    await page.getByLabel("Name").fill("Garden");
    await page.getByLabel(/^Instructions/).fill("You help with a small vegetable garden. Answer briefly.");
    await page.getByRole("button", { name: "Make project" }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]+\?done=created$/);
    const projectId = /\/projects\/([0-9a-f-]+)/.exec(page.url())![1]!;
    await page.getByText("The project is made.").waitFor();
    await shoot(page, "project-page");

    // A new chat in it: the page says so, and the request upstream has the instructions first.
    await page.getByRole("link", { name: "New chat in this project" }).click();
    await page.getByText("New chat in the project").waitFor();
    await page.getByLabel("Message").fill("When should I sow peas?");
    await shoot(page, "new-chat-in-project");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const inside = /\/chats\/([0-9a-f-]+)$/.exec(page.url())![1]!;
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    const sent = s.fake.requests.find(
      (r) => r.body.stream && r.body.messages.at(-1)?.content === "When should I sow peas?",
    );
    expect(sent?.body.messages[0]).toEqual({
      role: "system",
      content: "You help with a small vegetable garden. Answer briefly.",
    });
    expect(await projectOf(inside)).toBe(projectId);
    await page.locator("#chat-project").getByText("Garden").waitFor();
    await page.locator(`#project-groups a[href="/chats/${inside}"]`).waitFor();

    // A chat outside it, moved in from its header's "Move to…" by keyboard alone.
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("Notes on tomatoes");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const outside = /\/chats\/([0-9a-f-]+)$/.exec(page.url())![1]!;
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await connected(page);
    expect(await projectOf(outside)).toBeNull();
    await page.locator(`#chat-nav a[href="/chats/${outside}"]`).waitFor();
    const moveButton = page.getByRole("button", { name: "Move to…", exact: true });
    await openChatMenu(page);
    await moveButton.focus();
    await page.keyboard.press("Enter");
    const menu = page.locator("#move-dialog");
    await menu.getByRole("button", { name: "Garden" }).waitFor();
    // "Move to…" sits in the header's More menu (the ⋯ menu on a phone): the picture shows it opened from there.
    const opened = (id: string) => page.locator(`#${id}`).evaluate((el) => el.matches(":popover-open"));
    await shoot(page, "move-menu", async () => {
      if (!(await opened("move-dialog"))) {
        await openChatMenu(page);
        await moveButton.click();
      }
      await menu.getByRole("button", { name: "Garden" }).waitFor();
    });
    await page.keyboard.press("Escape");
    await page.keyboard.press("Escape");
    await menu.waitFor({ state: "hidden" });
    await openChatMenu(page);
    await moveButton.focus();
    await page.keyboard.press("Enter");
    await menu.getByRole("button", { name: "Garden" }).waitFor();
    await page.keyboard.press("Tab");
    expect(await menu.getByRole("button", { name: "Garden" }).evaluate((el) => el === document.activeElement)).toBe(
      true,
    );
    await page.keyboard.press("Enter");
    await until(async () => (await projectOf(outside)) === projectId);
    await menu.waitFor({ state: "hidden" });
    // Live: its page names the project, and the sidebar lists it under the project.
    await page.locator("#chat-project").getByText("Garden").waitFor();
    await page.locator(`#project-groups a[href="/chats/${outside}"]`).waitFor();
    expect(await page.locator(`#chat-nav a[href="/chats/${outside}"]`).count()).toBe(0);
    await shoot(page, "chat-in-project");

    // Out again from its sidebar item, by keyboard: the project's own choice is disabled, "No project" next.
    await page.locator(`#project-groups #chat-item-${outside} button`).focus();
    await page.keyboard.press("Enter");
    const itemMenu = page.locator("#move-dialog");
    await itemMenu.getByRole("button", { name: "No project" }).waitFor();
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await until(async () => (await projectOf(outside)) === null);
    await page.locator(`#chat-nav a[href="/chats/${outside}"]`).waitFor();
    await page.locator("#chat-project").waitFor({ state: "hidden" });

    // Deleted, keeping its one chat: the choice to keep is the one focused first.
    await page.goto(`${s.server.url}/projects/${projectId}`);
    await page.getByRole("button", { name: "Delete project" }).click();
    const keep = page.getByRole("button", { name: "Delete project, keep 1 chat" });
    await keep.waitFor();
    await page.getByText("It holds 1 chat.").waitFor();
    await shoot(page, "delete-project", () => page.getByRole("alertdialog").waitFor());
    expect(await keep.evaluate((el) => el === document.activeElement)).toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/projects\?done=deleted$/);
    await page.getByText("The project is deleted; its chats were kept.").waitFor();
    expect(await projectOf(inside)).toBeNull();
    await shoot(page, "projects-page");
    expect(problems).toEqual([]);
  });

  test("a closed project group loads its chats as it opens, stays open on the next page, and follows changes from another tab", async () => {
    const { page, context, problems } = await s.open({ watchSocket: true });
    const made = async (name: string) => {
      await page.goto(`${s.server.url}/projects`);
      await page.getByLabel("Name").fill(name);
      await page.getByRole("button", { name: "Make project" }).click();
      await page.waitForURL(/\/projects\/[0-9a-f-]+\?done=created$/);
      return /\/projects\/([0-9a-f-]+)/.exec(page.url())![1]!;
    };
    const orchard = await made("Orchard");
    await made("Pantry");
    // A chat in Orchard, made in the database: the page that opens next has not seen it.
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Pruning apple trees", model: "fake/fast", projectId: orchard })
      .returning();

    await page.goto(s.server.url);
    await connected(page);
    const group = page.locator(`details[data-project-group="${orchard}"]`);
    const link = group.locator(`a[href="/chats/${chat!.id}"]`);
    // Closed, and its chats not sent with the page.
    expect(await group.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await page.content()).not.toContain("Pruning apple trees");
    await group.locator("summary").click();
    await link.waitFor();
    await shoot(page, "project-group-open");

    // Opened here, it opens again on the next page, with its chats.
    await page.reload();
    await link.waitFor();
    expect(await page.locator("details[data-project-group][open]").count()).toBe(1);

    // A new chat in it from another tab appears in this one's open group, live.
    await connected(page);
    const other = await context.newPage();
    await other.goto(`${s.server.url}/?project=${orchard}`);
    await other.getByLabel("Message").fill("Which rootstock for a small garden?");
    await other.getByLabel("Message").press("Enter");
    await other.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const second = /\/chats\/([0-9a-f-]+)$/.exec(other.url())![1]!;
    await group.locator(`a[href="/chats/${second}"]`).waitFor();
    expect(await page.locator(`#chat-nav a[href="/chats/${second}"]`).count()).toBe(0);

    // Closed, it stays closed on the next page (once its toggle event, a task after the click, is seen).
    await group.locator("summary").click();
    await page.waitForFunction(
      (id) => !JSON.parse(localStorage.getItem("parley.openProjects") ?? "[]").includes(id),
      orchard,
    );
    await page.reload();
    await connected(page);
    expect(await group.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(problems).toEqual([]);
  });
});
