import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import type { Page } from "playwright-core";
import { chats } from "../../src/db/schema.ts";
import { fakeCatalog } from "../fake-upstream.ts";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite } from "../support/e2e.ts";

/** Hundreds of models, as OpenRouter lists them. */
const CATALOG = fakeCatalog();
const SUITE = { shots: "model-picker", upstream: { models: CATALOG } };

browserSuite("pglite", "the model picker in Chromium", SUITE, (s, t) => {
  // caret "initial": Playwright hides the caret with an inline <style>, which the page's CSP refuses.
  const shot = (page: Page, name: string) => s.shot(page, name, { caret: "initial" });
  const picker = (page: Page) => page.getByRole("combobox", { name: "Model" });
  const active = (page: Page) =>
    page.evaluate(() => {
      const id = document.querySelector("[role=combobox]")?.getAttribute("aria-activedescendant");
      return id ? document.getElementById(id)?.querySelector("span > span")?.textContent : undefined;
    });
  const chatModel = async (chatId: string) =>
    (await t.database.rows<{ model: string }>(sql`select model from chats where id = ${chatId}`))[0]?.model;

  test("type to filter by name or provider; each model shows its context, prices and what it reads; the keyboard chooses", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const box = picker(page);
    expect(await box.inputValue()).toBe("Fake Fast");
    // Arrow-Down opens the list at the chosen model: every model the upstream lists.
    await box.press("ArrowDown");
    const list = page.getByRole("listbox", { name: "Models" });
    await list.waitFor();
    expect(await box.getAttribute("aria-expanded")).toBe("true");
    expect(await list.getByRole("option").count()).toBe(CATALOG.length);
    expect(await active(page)).toBe("Fake Fast");
    expect(await list.getByRole("option", { selected: true }).textContent()).toContain("Fake Fast");

    // Type-ahead filters, by the name's words or the provider in the id.
    await box.fill("sonnet thinking");
    const options = list.getByRole("option");
    const names = await options.evaluateAll((els) => els.map((e) => e.querySelector("span > span")!.textContent));
    expect(names.length).toBeGreaterThan(0);
    expect(names.length).toBeLessThan(10);
    for (const name of names) expect(name).toMatch(/Claude Sonnet.*thinking/);
    await page
      .getByRole("status")
      .filter({ hasText: /models? match/ })
      .waitFor();
    const first = CATALOG.find((m) => m.name === names[0])!;
    const text = await options.first().textContent();
    expect(text).toContain(`anthropic · ${Math.round(first.context_length / 1000)}K context`);
    expect(text).toMatch(/\$[\d.]+ in \/ \$[\d.]+ out per M tokens|free/);
    expect(text).toContain("reasoning");
    await shot(page, "model-picker-filtered-desktop-light");

    await box.fill("mistral");
    expect(await options.count()).toBe(CATALOG.filter((m) => m.id.startsWith("mistralai/")).length);
    await box.fill("vision");
    expect(await options.first().textContent()).toContain("images");
    await box.fill("no such model at all");
    expect(await options.count()).toBe(0);
    await list.getByText("No model matches.").waitFor();

    // Home / End / Up / Down move the active option; Enter chooses it; the <select> holds it.
    await box.fill("gemini 2.5 pro");
    const count = await options.count();
    expect(count).toBeGreaterThan(2);
    const nameAt = async (i: number) => (await options.nth(i).locator("span > span").first().textContent()) ?? "";
    expect(await active(page)).toBe(await nameAt(0));
    await box.press("End");
    expect(await active(page)).toBe(await nameAt(count - 1));
    await box.press("Home");
    expect(await active(page)).toBe(await nameAt(0));
    await box.press("ArrowDown");
    expect(await active(page)).toBe(await nameAt(1));
    await box.press("ArrowUp");
    await box.press("ArrowDown");
    const chosen = (await nameAt(1))!;
    await box.press("Enter");
    expect(await box.getAttribute("aria-expanded")).toBe("false");
    expect(await list.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe(chosen);
    const id = CATALOG.find((m) => m.name === chosen)!.id;
    expect(await page.locator("select#model").inputValue()).toBe(id);

    // Esc closes the list and puts the chosen model's name back.
    await box.fill("grok");
    await box.press("Escape");
    expect(await list.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe(chosen);

    // The chosen model is the new chat's.
    await page.getByLabel("Message").fill("Hello picker");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const chatId = page.url().split("/").pop()!;
    expect(await chatModel(chatId)).toBe(id);
    expect(s.fake.requests.find((r) => r.body.messages.at(-1)?.content === "Hello picker")?.body.model).toBe(id);

    // In an open chat, a choice is saved at once.
    await picker(page).fill("fake smart");
    await picker(page).press("Enter");
    for (let i = 0; i < 50 && (await chatModel(chatId)) !== "fake/smart"; i++) await page.waitForTimeout(50);
    expect(await chatModel(chatId)).toBe("fake/smart");
    expect(problems).toEqual([]);
  });

  test("starred and recently used models come first; the star is kept for the person", async () => {
    await t.database.db.insert(chats).values({ userId: s.server.user.id, title: "Earlier", model: "fake/smart" });
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const box = picker(page);
    await box.fill("qwq");
    await box.press("Enter");
    const qwq = await box.inputValue();
    // The star beside the box stars the chosen model.
    const star = page.getByRole("button", { name: "Favourite model" });
    expect(await star.getAttribute("aria-pressed")).toBe("false");
    await star.click();
    await page.waitForFunction(
      () => document.querySelector("[aria-label='Favourite model']")?.getAttribute("aria-pressed") === "true",
    );
    const stars = async () =>
      (await t.database.rows<{ model: string }>(sql`select model from favourite_models order by created_at`)).map(
        (r) => r.model,
      );
    expect(await stars()).toEqual([CATALOG.find((m) => m.name === qwq)!.id]);

    // A star in the list stars that model, without choosing it.
    await box.fill("kimi");
    const kimi = page.getByRole("listbox").getByRole("option").first();
    const kimiName = (await kimi.locator("span > span").first().textContent())!;
    await kimi.locator("[data-star]").click();
    for (let i = 0; i < 50 && (await stars()).length < 2; i++) await page.waitForTimeout(50);
    expect((await stars()).length).toBe(2);
    expect(await page.locator("select#model").inputValue()).toBe(CATALOG.find((m) => m.name === qwq)!.id);

    // After a reload: favourites first, then the models of recent chats, then the rest.
    await page.reload();
    await picker(page).press("ArrowDown");
    const groups = await page
      .getByRole("listbox")
      .getByRole("group")
      .evaluateAll((els) =>
        els.map((g) => [
          g.querySelector("[role=presentation]")!.textContent,
          Array.from(g.querySelectorAll("[role=option] span > span:first-child"), (s) => s.textContent),
        ]),
      );
    expect(groups[0]).toEqual(["Favourites", [qwq, kimiName]]);
    expect(groups[1]![0]).toBe("Recently used");
    expect(groups[1]![1]).toContain("Fake Smart");
    expect(groups[2]![0]).toBe("All models");
    await picker(page).press("Home");
    await shot(page, "model-picker-open-desktop-light");
    // The same order without JavaScript: the <select>'s groups.
    expect(
      await page.locator("select#model optgroup").evaluateAll((els) => els.map((e) => e.getAttribute("label"))),
    ).toEqual(["Favourites", "Recently used", "All models"]);

    // Unstarring from the list takes the star away.
    await picker(page).fill(qwq);
    await page.getByRole("listbox").getByRole("option").first().locator("[data-star]").click();
    for (let i = 0; i < 50 && (await stars()).length > 1; i++) await page.waitForTimeout(50);
    expect(await stars()).toEqual([CATALOG.find((m) => m.name === kimiName)!.id]);
    expect(problems).toEqual([]);
  });

  test("on a phone: the list fits the screen, filters as typed, and a tap chooses", async () => {
    const { page, problems } = await s.open({ viewport: VIEWPORTS.phone, scheme: "dark", context: { hasTouch: true } });
    await page.goto(s.server.url);
    // On a phone the header's actions, the picker among them, are under the ⋯ menu.
    await page.getByRole("button", { name: "Chat actions" }).tap();
    const box = picker(page);
    await box.tap();
    const list = page.getByRole("listbox", { name: "Models" });
    await list.waitFor();
    await box.fill("llama 4 scout");
    const bounds = await list.boundingBox();
    expect(bounds!.x).toBeGreaterThanOrEqual(0);
    expect(bounds!.x + bounds!.width).toBeLessThanOrEqual(VIEWPORTS.phone.width);
    expect(bounds!.y + bounds!.height).toBeLessThanOrEqual(VIEWPORTS.phone.height);
    await shot(page, "model-picker-filtered-phone-dark");
    const option = list.getByRole("option").nth(1);
    const name = (await option.locator("span > span").first().textContent())!;
    await option.locator("span > span").first().tap();
    expect(await list.isVisible()).toBe(false);
    expect(await box.inputValue()).toBe(name);
    expect(await page.locator("select#model").inputValue()).toBe(CATALOG.find((m) => m.name === name)!.id);
    if (!(await box.isVisible())) await page.getByRole("button", { name: "Chat actions" }).tap();
    await box.tap();
    await shot(page, "model-picker-open-phone-dark");
    expect(problems).toEqual([]);
  });

  test("without JavaScript the picker is a plain <select> labelled Model, and the form sends it", async () => {
    const { page } = await s.open({ javaScript: false });
    await page.goto(s.server.url);
    const select = page.getByLabel("Model");
    expect(await select.evaluate((el) => el.tagName)).toBe("SELECT");
    const deepseek = CATALOG.find((m) => m.id.startsWith("deepseek/"))!.id;
    await select.selectOption(deepseek);
    await page.getByLabel("Message").fill("Hello without script");
    await page.getByRole("button", { name: "Send" }).click();
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    expect(await chatModel(page.url().split("/").pop()!)).toBe(deepseek);
  });

  test("the presets page picks a preset's model with the same picker", async () => {
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/presets`);
    await page.getByLabel("Name").fill("Coder");
    const box = picker(page);
    await box.fill("codestral");
    const name = (await page
      .getByRole("listbox")
      .getByRole("option")
      .first()
      .locator("span > span")
      .first()
      .textContent())!;
    await box.press("Enter");
    await page.getByRole("button", { name: "Save preset" }).click();
    await page.getByText("The preset is saved.").waitFor();
    const [row] = await t.database.rows<{ model: string }>(sql`select model from presets where name = 'Coder'`);
    expect(row?.model).toBe(CATALOG.find((m) => m.name === name)!.id);
    expect(problems).toEqual([]);
  });
});
