import { expect, test } from "bun:test";
import { eq, inArray } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats, projects } from "../../src/db/schema.ts";
import { browserSuite } from "../support/e2e.ts";

browserSuite(
  "pglite",
  "selecting chats in the sidebar, and dragging them into projects, in Chromium",
  { shots: "bulk" },
  (s, t) => {
    /** The page (or what is open in it) light and dark, as `<name>-<size>-<scheme>.png`; light after. */
    async function shoot(page: Page, name: string, size: "desktop" | "phone" = "desktop") {
      for (const scheme of ["light", "dark"] as const) {
        await page.emulateMedia({ colorScheme: scheme });
        await s.shot(page, `${name}-${size}-${scheme}`);
      }
      await page.emulateMedia({ colorScheme: "light" });
    }
    const connected = (page: Page) =>
      page.waitForFunction(() => (window as unknown as { connected: boolean }).connected);
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 400 && !(await check()); i++) await Bun.sleep(25);
      expect(await check()).toBe(true);
    };
    const make = async (titles: string[]) => {
      const rows = await t.database.db
        .insert(chats)
        .values(
          titles.map((title, i) => ({
            userId: s.server.user.id,
            title,
            model: "fake/fast",
            updatedAt: new Date(Date.now() - i * 60_000),
          })),
        )
        .returning();
      return Object.fromEntries(rows.map((r) => [r.title, r.id]));
    };
    const project = async (name: string) => {
      const [row] = await t.database.db.insert(projects).values({ userId: s.server.user.id, name }).returning();
      return row!.id;
    };
    const row = async (id: string) => (await t.database.db.select().from(chats).where(eq(chats.id, id)))[0];

    test("select three chats and archive them (the other tab's list follows), move two into a project, delete one after asking", async () => {
      const ids = await make([
        "Garden plans",
        "Tax questions",
        "Trip to Lisbon",
        "Bread recipes",
        "Bike repair",
        "Old draft",
        "Reading list",
      ]);
      const garden = await project("Garden");
      const { page, context, problems } = await s.open({ watchSocket: true });
      await page.goto(`${s.server.url}/`);
      await connected(page);
      const other = await context.newPage();
      await other.goto(`${s.server.url}/`);
      await other.waitForFunction(() => (window as unknown as { connected: boolean }).connected);

      // Select is a switch, by keyboard; each listed chat then has a checkbox named by its title.
      const list = page.locator("#chat-nav");
      await expect(list.getByRole("checkbox").count()).resolves.toBe(0);
      await page.getByRole("checkbox", { name: "Select" }).focus();
      await page.keyboard.press("Space");
      await list.getByRole("checkbox", { name: "Garden plans" }).check();
      await list.getByRole("checkbox", { name: "Tax questions" }).check();
      // A click on a chat's name checks it rather than opening it.
      await list.getByRole("link", { name: "Trip to Lisbon" }).click();
      await expect(list.getByRole("checkbox", { name: "Trip to Lisbon" }).isChecked()).resolves.toBe(true);
      expect(page.url()).toBe(`${s.server.url}/`);
      await page.getByText("3 selected").waitFor();
      await shoot(page, "selecting");

      // Archived in one go: gone from both tabs' lists, and Select is over.
      await page.locator("#chat-select").getByRole("button", { name: "Archive" }).click();
      for (const tab of [page, other]) {
        await until(async () => !(await tab.locator("#chat-nav").textContent())?.includes("Tax questions"));
        const text = await tab.locator("#chat-nav").textContent();
        for (const title of ["Garden plans", "Trip to Lisbon"]) expect(text).not.toContain(title);
        expect(text).toContain("Bread recipes");
      }
      for (const title of ["Garden plans", "Tax questions", "Trip to Lisbon"]) {
        expect((await row(ids[title]!))!.archivedAt).toBeInstanceOf(Date);
      }
      await expect(page.getByRole("checkbox", { name: "Select" }).isChecked()).resolves.toBe(false);
      await expect(list.getByRole("checkbox").count()).resolves.toBe(0);

      // Two moved into Garden with Move to….
      await page.locator("#chat-select label").getByText("Select").click();
      await list.getByRole("checkbox", { name: "Bread recipes" }).check();
      await list.getByRole("checkbox", { name: "Bike repair" }).check();
      await page.locator("#chat-select").getByRole("button", { name: "Move to…" }).click();
      const dialog = page.getByRole("dialog", { name: "Move the checked chats to…" });
      await dialog.getByRole("radio", { name: "Garden" }).check();
      await shoot(page, "move-to");
      await dialog.getByRole("button", { name: "Move" }).click();
      await until(async () => (await row(ids["Bike repair"]!))!.projectId === garden);
      expect((await row(ids["Bread recipes"]!))!.projectId).toBe(garden);
      await until(async () => !(await other.locator("#chat-nav").textContent())?.includes("Bike repair"));

      // Deleted after the page asks, with how many.
      await page.locator("#chat-select label").getByText("Select").click();
      await list.getByRole("checkbox", { name: "Old draft" }).check();
      await list.getByRole("checkbox", { name: "Reading list" }).check();
      await page.locator("#chat-select").getByRole("button", { name: "Delete", exact: true }).click();
      const ask = page.getByRole("alertdialog", { name: "Delete these 2 chats?" });
      await ask.waitFor();
      await shoot(page, "delete-asks");
      await ask.getByRole("button", { name: "Delete chats" }).click();
      await until(async () => (await row(ids["Old draft"]!)) === undefined);
      expect(await row(ids["Reading list"]!)).toBeUndefined();
      await until(async () => !(await other.locator("#chat-nav").textContent())?.includes("Reading list"));
      expect(
        await t.database.db
          .select()
          .from(chats)
          .where(inArray(chats.id, Object.values(ids))),
      ).toHaveLength(5);
      expect(problems).toEqual([]);
    });

    test("on a phone, Select works in the drawer: checkboxes a thumb can hit, Move to… and Delete's question over it", async () => {
      await make(["Phone one", "Phone two", "Phone three"]);
      await project("Phone project");
      const { page, problems } = await s.open({ phone: true, watchSocket: true });
      await page.goto(`${s.server.url}/`);
      await connected(page);
      await page.locator("[data-toggle=sidebar]").click();
      await page.locator("#chat-select label").getByText("Select").click();
      const list = page.locator("#chat-nav");
      await list.getByRole("checkbox", { name: "Phone one" }).check();
      await list.getByRole("link", { name: "Phone two" }).click();
      await page.getByText("2 selected").waitFor();
      const box = await list.getByRole("checkbox", { name: "Phone one" }).boundingBox();
      expect(box!.width).toBeGreaterThanOrEqual(20);
      await shoot(page, "selecting", "phone");
      await page.locator("#chat-select").getByRole("button", { name: "Move to…" }).click();
      await page
        .getByRole("dialog", { name: "Move the checked chats to…" })
        .getByRole("radio", { name: "Phone project" })
        .check();
      await shoot(page, "move-to", "phone");
      await page.keyboard.press("Escape");
      await page.locator("#chat-select").getByRole("button", { name: "Delete", exact: true }).click();
      await page.getByRole("alertdialog", { name: "Delete these 2 chats?" }).waitFor();
      await shoot(page, "delete-asks", "phone");
      expect(problems).toEqual([]);
    });

    test("a chat dragged onto a project's group goes into it (the group marked while it would), and dragged onto the list comes out", async () => {
      const ids = await make(["Seed catalogue", "Compost notes"]);
      const seeds = ids["Seed catalogue"]!;
      const orchard = await project("Orchard");
      const { page, problems } = await s.open({ watchSocket: true });
      await page.goto(`${s.server.url}/`);
      await connected(page);
      const group = page.locator(`details[data-project-group="${orchard}"]`);

      // Step by step, to see the mark on the group while the chat is over it.
      await page.locator(`#chat-nav #chat-item-${seeds} > a`).hover();
      await page.mouse.down();
      await group.locator("summary").hover();
      await group.locator("summary").hover({ position: { x: 20, y: 8 } });
      await page.locator(`details[data-project-group="${orchard}"][data-drop]`).waitFor();
      await s.shot(page, "drag-over-group-desktop-light");
      await page.mouse.up();
      await until(async () => (await row(seeds))!.projectId === orchard);
      await expect(page.locator("[data-drop]").count()).resolves.toBe(0);
      // The group opens and shows it; the list has it no more.
      await page.locator(`#project-groups #chat-item-${seeds}`).waitFor();
      await until(async () => (await page.locator(`#chat-nav #chat-item-${seeds}`).count()) === 0);

      // A push of the list reads the open group again; what it shows already stays the same
      // elements (a drag that began on a chat there as a push landed was lost).
      const item = page.locator(`#project-groups #chat-item-${seeds}`);
      await item.evaluate((el) => el.setAttribute("data-test-kept", ""));
      const reread = page.evaluate(
        (project) =>
          new Promise<void>((resolve) =>
            document.addEventListener("htmx:afterRequest", (event) => {
              const { target } = (event as CustomEvent).detail;
              if (target?.parentElement?.dataset.projectGroup === project) resolve();
            }),
          ),
        orchard,
      );
      await page.evaluate(
        (id) =>
          fetch(`/chats/${id}/title`, {
            method: "POST",
            headers: { "HX-Request": "true" },
            body: new URLSearchParams({ title: "Compost, renamed" }),
          }),
        ids["Compost notes"]!,
      );
      await page.locator("#chat-nav").getByText("Compost, renamed").waitFor();
      await reread;
      await expect(item.getAttribute("data-test-kept")).resolves.toBe("");

      // Out of the project: dragged from the group onto the list.
      await page.locator(`#project-groups #chat-item-${seeds} > a`).dragTo(page.locator("#chat-nav"));
      await until(async () => (await row(seeds))!.projectId === null);
      await page.locator(`#chat-nav #chat-item-${seeds}`).waitFor();
      expect(problems).toEqual([]);
    });

    test("without script, Select still shows the checkboxes and the checked chats are archived by the plain form", async () => {
      const ids = await make(["No script one", "No script two"]);
      const { page } = await s.open({ javaScript: false });
      await page.goto(`${s.server.url}/`);
      await page.getByText("Select", { exact: true }).click();
      await page.locator("#chat-nav").getByRole("checkbox", { name: "No script one" }).check();
      await page.locator("#chat-select").getByRole("button", { name: "Archive" }).click();
      await page.waitForURL(`${s.server.url}/`);
      expect((await row(ids["No script one"]!))!.archivedAt).toBeInstanceOf(Date);
      expect((await row(ids["No script two"]!))!.archivedAt).toBeNull();
    });
  },
);
