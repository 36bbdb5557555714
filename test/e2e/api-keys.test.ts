import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserSuite, SIZES } from "../support/e2e.ts";

const SUITE = { shots: "api-keys", username: "keys-kim" };
browserSuite("postgres", "personal API keys on the account page in Chromium", SUITE, (s) => {
  /** The section alone, in both sizes and both schemes, for people to look at. */
  const shots = async (page: Page, name: string) => {
    const section = page.locator("section", { has: page.getByRole("heading", { name: "API keys" }) });
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        // caret "initial": Playwright hides the caret with an inline <style>, which the page's CSP refuses.
        await s.shot(section, `${name}-${size}-${scheme}`, { caret: "initial" });
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };

  test("create a key: shown once with Copy, then listed; used by a script; revoked after the confirmation", async () => {
    const { page, problems } = await s.open({ clipboard: true });

    await page.goto(`${s.server.url}/account`);
    await page.getByText("You have no API keys.").waitFor();
    await shots(page, "api-keys-empty");

    await page.getByLabel("Key name").fill("my editor");
    await page.getByRole("button", { name: "Create key" }).click();
    const fresh = page.getByLabel("Your new key “my editor”");
    await fresh.waitFor();
    const token = await fresh.inputValue();
    expect(token).toMatch(/^pk_[A-Za-z0-9_-]{43}$/);
    await page.getByRole("button", { name: "Copy", exact: true }).click();
    await page.getByRole("button", { name: "Copied" }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    const keys = page.getByRole("list", { name: "Your API keys" });
    const item = keys.getByRole("listitem").filter({ hasText: "my editor" });
    await expect(item.textContent()).resolves.toContain(`${token.slice(0, 7)}…`);
    await expect(item.textContent()).resolves.toContain("Never used");
    await shots(page, "api-keys-created");

    // A second key of the same name (whatever its case) is refused with a sentence; what was typed stays.
    await page.getByLabel("Key name").fill("My Editor");
    await page.getByRole("button", { name: "Create key" }).click();
    await page.getByRole("alert").getByText("You already have a key named “My Editor”").waitFor();
    expect(await page.getByLabel("Key name").inputValue()).toBe("My Editor");
    await shots(page, "api-keys-refused");

    // A script uses it; the page, loaded again, shows its last use and never the key itself.
    const used = await fetch(`${s.server.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(used.status).toBe(200);
    await page.reload();
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain("last used");
    expect(await page.content()).not.toContain(token);

    // Revoke: the button asks first, in the page; Cancel keeps the key.
    await item.getByRole("button", { name: "Revoke", exact: true }).click();
    const confirm = page.getByRole("alertdialog", { name: "Revoke the key “my editor”?" });
    await confirm.waitFor();
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe("Cancel");
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    await item.getByRole("button", { name: "Revoke", exact: true }).click();
    await confirm.getByRole("button", { name: "Revoke key" }).click();
    await page.getByText("You have no API keys.").waitFor();
    const refused = await fetch(`${s.server.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(401);
    // The refused name's 422 is what htmx logs; nothing else went wrong.
    expect(problems.filter((p) => !p.includes("422"))).toEqual([]);
  });
});
