import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { oneDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
  page.on("pageerror", (e) => problems.push(e.message));
  return problems;
}

oneDriver("postgres", "groups in Chromium", (t) => {
  let server: TestServer;
  let kim: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake), { username: "ada" });
    kim = await server.signUp("kim");
  });
  afterAll(() => server.stop());

  test("the admin makes a group, adds a person and sets its models: that person's picker offers only those; disabled, their open tab is signed out", async () => {
    const adminContext = await signedInContext(browser, server, server, { viewport: VIEWPORTS.desktop });
    const admin = await adminContext.newPage();
    const adminProblems = watch(admin);
    await admin.goto(`${server.url}/admin`);
    await admin.getByRole("link", { name: "Groups" }).click();
    await admin.waitForURL(`${server.url}/admin/groups`);
    await admin.getByLabel("Name").fill("Interns");
    await admin.getByRole("button", { name: "Create group" }).click();
    await admin.waitForURL(/\/admin\/groups\/[0-9a-f-]+\?done=created/);
    await admin.getByLabel("Add a person").selectOption({ label: "kim" });
    await admin.getByRole("button", { name: "Add to group" }).click();
    await expect(admin.getByRole("status").textContent()).resolves.toBe("The person is added to the group.");

    // A bad pattern is refused with a sentence, and what was typed stays to be fixed.
    await admin.getByLabel("Only the models listed below").check();
    await admin.getByLabel("Allowed models").fill("fake/**");
    await admin.getByRole("button", { name: "Save models" }).click();
    await expect(admin.getByRole("alert").textContent()).resolves.toStartWith(
      "The pattern “fake/**” is not a model id or pattern",
    );
    await expect(admin.getByLabel("Allowed models").inputValue()).resolves.toBe("fake/**");
    await admin.getByLabel("Allowed models").fill("fake/fast");
    await admin.getByRole("button", { name: "Save models" }).click();
    await expect(admin.getByRole("status").textContent()).resolves.toBe("The group's models are saved.");

    // Kim's picker offers only Fake Fast.
    const kimContext = await signedInContext(browser, server, kim, { viewport: VIEWPORTS.desktop });
    const page = await kimContext.newPage();
    const problems = watch(page);
    await page.goto(server.url);
    const box = page.getByRole("combobox", { name: "Model" });
    await box.press("ArrowDown");
    const list = page.getByRole("listbox", { name: "Models" });
    await list.waitFor();
    const names = await list
      .getByRole("option")
      .evaluateAll((els) => els.map((e) => e.querySelector("span > span")!.textContent));
    expect(names).toEqual(["Fake Fast"]);
    await box.press("Escape");

    // Disabled: kim's open tab is sent to sign in (its socket closes), and sign-in is refused.
    await admin.goto(`${server.url}/admin`);
    await admin.locator(`#user-${kim.user.id} summary`).click();
    await admin.getByRole("button", { name: "Disable kim" }).click();
    await expect(admin.getByRole("status").textContent()).resolves.toStartWith("The account is disabled");
    await page.waitForURL(`${server.url}/signin`);
    await page.getByLabel("Username").fill("kim");
    await page.getByLabel("Password").fill("a long test password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert").textContent()).resolves.toBe("This account is disabled; ask your admin.");

    // Enabled again: the admin's people list shows the button, and kim may sign in.
    await expect(
      admin.locator(`#user-${kim.user.id}`).getByText("Disabled", { exact: true }).isVisible(),
    ).resolves.toBe(true);
    await admin.getByRole("button", { name: "Enable kim" }).click();
    await expect(admin.getByRole("status").textContent()).resolves.toStartWith("The account is enabled");
    await page.getByLabel("Password").fill("a long test password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${server.url}/`);

    for (const [width, viewport] of Object.entries(VIEWPORTS)) {
      for (const scheme of ["light", "dark"] as const) {
        await admin.setViewportSize(viewport);
        await admin.emulateMedia({ colorScheme: scheme });
        await admin.goto(`${server.url}/admin/groups`);
        await screenshot(admin, join(ARTIFACTS, `groups-${width}-${scheme}.png`), { fullPage: true });
        await admin.getByRole("link", { name: "Interns" }).click();
        await admin.waitForURL(/\/admin\/groups\/[0-9a-f-]+$/);
        await screenshot(admin, join(ARTIFACTS, `group-${width}-${scheme}.png`), { fullPage: true });
      }
    }
    // Chromium logs the refused forms' 400 and 403 answers; those were the point.
    expect([...adminProblems, ...problems].filter((p) => !/status of 40[03] /.test(p))).toEqual([]);
    await closeContext(kimContext);
    await closeContext(adminContext);
  });
});
