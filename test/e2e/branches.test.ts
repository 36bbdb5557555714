import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { VIEWPORTS } from "../support/browser.ts";
import { browserSuite, openEditor } from "../support/e2e.ts";

browserSuite("postgres", "edits and branches in Chromium", { shots: "branches" }, (s) => {
  const finished = (page: Page) => page.locator('article[data-role="assistant"][data-status="complete"]');

  test("edit a message, see the new branch in both tabs, switch back and forth", async () => {
    const { page, problems, context } = await s.open();
    s.fake.queue({ text: "Paris is the capital of France." }, { text: "Then the answer is 4." });
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill("What is the capital of France?");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await finished(page).waitFor();
    await page.getByLabel("Message").fill("And 2 + 2?");
    await page.getByLabel("Message").press("Enter");
    await finished(page).nth(1).waitFor();
    const second = await context.newPage();
    await second.goto(page.url());
    await finished(second).nth(1).waitFor();

    // Edit the second question: its answer and it give way to the new words and a new answer.
    s.fake.queue({ text: "2 × 3 is 6." });
    const question = page.locator('article[data-role="user"]').nth(1);
    const box = await openEditor(page, question);
    expect(await box.inputValue()).toBe("And 2 + 2?");
    await box.fill("And 2 × 3?");
    await s.shot(page, "branch-editing-desktop-light");
    await question.getByRole("button", { name: "Send" }).click();
    for (const tab of [page, second]) {
      await tab.getByText("2 × 3 is 6.").waitFor();
      expect(await tab.getByText("And 2 + 2?").count()).toBe(0);
      expect(await tab.getByText("Then the answer is 4.").count()).toBe(0);
      expect(await tab.locator("[data-siblings]").textContent()).toContain("2 / 2");
    }
    await s.shot(page, "branch-edited-desktop-light");

    // Back to the first version, from the other tab; both follow.
    await second.getByRole("button", { name: "Previous version" }).click();
    for (const tab of [page, second]) {
      await tab.getByText("Then the answer is 4.").waitFor();
      expect(await tab.getByText("2 × 3 is 6.").count()).toBe(0);
      expect(await tab.locator("[data-siblings]").textContent()).toContain("1 / 2");
    }
    // A reload keeps the branch chosen.
    await page.reload();
    await page.getByText("Then the answer is 4.").waitFor();
    expect(await page.getByText("And 2 × 3?").count()).toBe(0);
    await page.getByRole("button", { name: "Next version" }).click();
    await page.getByText("2 × 3 is 6.").waitFor();
    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await s.shot(page, `branch-switch-${width}-${scheme}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
