import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserSuite, shotAllSizes } from "../support/e2e.ts";
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from "../support/oidc-provider.ts";
import { startBareServer } from "../support/server.ts";

const provider: TestProvider = await startOidcProvider();
afterAll(() => provider.stop());
provider.people.set("carla", { sub: "carla", preferred_username: "carla", email: "carla@example.com" });
provider.people.set("dmitri", { sub: "dmitri", preferred_username: "dmitri" });

/** A person at the provider's own (development) login and consent pages. */
async function atProvider(page: Page, login: string, consent: "give" | "refuse" = "give") {
  await page.waitForURL((url) => url.origin === provider.issuer);
  const name = page.locator('input[name="login"]');
  // Already signed in at the provider (an earlier test in this browser context): no login page.
  if (await name.isVisible()) {
    await name.fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
  }
  if (consent === "refuse") await page.getByRole("link", { name: "[ Cancel ]" }).click();
  else await page.getByRole("button", { name: "Continue" }).click();
}

/** Console errors on Parley's pages only (the provider's pages ask for a web font this machine cannot reach). */
function parleyProblems(page: Page, origin: string): string[] {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && new URL(page.url()).origin === origin) problems.push(m.text());
  });
  return problems;
}

browserSuite(
  "postgres",
  "single sign-on in Chromium",
  {
    shots: "sso",
    env: {
      OIDC_ISSUER: provider.issuer,
      OIDC_CLIENT_ID: CLIENT_ID,
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_LABEL: "Acme SSO",
    },
  },
  (s, t) => {
    beforeAll(() => provider.register(s.server.url));

    test("sign in through the provider's pages to the chats; sign out, and out of the provider too", async () => {
      const { page } = await s.open({ person: null });
      const problems = parleyProblems(page, s.server.url);
      await page.goto(`${s.server.url}/signin`);
      await shotAllSizes(s, page, "signin-with-provider");
      await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
      await atProvider(page, "carla");
      await page.waitForURL(`${s.server.url}/`);
      await page.goto(`${s.server.url}/account`);
      await page.getByText("Signed in as carla.").waitFor();
      const section = page.locator("section", { has: page.getByRole("heading", { name: "Single sign-on" }) });
      expect(await section.textContent()).toContain("Linked to Acme SSO as carla since");
      // No password to change, and no way to unlink the only way in.
      expect(await page.getByRole("heading", { name: "Change password" }).count()).toBe(0);
      expect(await section.getByRole("button").count()).toBe(0);
      await shotAllSizes(s, page, "account-linked");

      await page.getByRole("button", { name: "Sign out" }).first().click();
      await page.getByRole("status").getByText("You are signed out of Parley.").waitFor();
      await shotAllSizes(s, page, "signed-out-offer");
      await page.getByRole("link", { name: "Sign out of Acme SSO too" }).click();
      await page.getByRole("button", { name: "Yes, sign me out" }).click();
      await page.waitForURL(`${s.server.url}/signin?done=signed-out`);
      await page.getByRole("status").getByText("You are signed out.").waitFor();
      // Out at the provider too: signing in again asks for the login there.
      await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
      await page.waitForURL((url) => url.origin === provider.issuer);
      await page.locator('input[name="login"]').waitFor();
      expect(problems).toEqual([]);
    });

    test("refusing at the provider comes back to the sign-in page with a sentence, signed out", async () => {
      const { page } = await s.open({ person: null });
      const problems = parleyProblems(page, s.server.url);
      await page.goto(`${s.server.url}/signin?next=/account`);
      await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
      await atProvider(page, "carla", "refuse");
      await page
        .getByRole("alert")
        .getByText("You did not allow Parley to sign you in with Acme SSO, so you are not signed in.")
        .waitFor();
      await shotAllSizes(s, page, "signin-refused");
      // Still signed out: the account page sends the person back to sign in.
      await page.goto(`${s.server.url}/account`);
      await page.waitForURL(`${s.server.url}/signin?next=%2Faccount`);
      // The refusal's page comes with its status, 403, which Chromium logs as a failed load; nothing else.
      expect(problems).toEqual(["Failed to load resource: the server responded with a status of 403 (Forbidden)"]);
    });

    test("a password account links the provider's from its account page, then signs in with it", async () => {
      const { page } = await s.open();
      const problems = parleyProblems(page, s.server.url);
      await page.goto(`${s.server.url}/account`);
      await shotAllSizes(s, page, "account-unlinked");
      await page.getByRole("link", { name: "Link your Acme SSO account" }).click();
      await atProvider(page, "dmitri");
      await page.getByRole("status").getByText("Your account is linked: you can sign in with it.").waitFor();
      const section = page.locator("section", { has: page.getByRole("heading", { name: "Single sign-on" }) });
      expect(await section.textContent()).toContain("Linked to Acme SSO as dmitri since");
      await section.getByRole("button", { name: "Unlink Acme SSO" }).waitFor();

      // In another browser, the provider's account opens the same Parley account.
      const other = await s.open({ person: null });
      await other.page.goto(`${s.server.url}/signin`);
      await other.page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
      await atProvider(other.page, "dmitri");
      await other.page.waitForURL(`${s.server.url}/`);
      await other.page.goto(`${s.server.url}/account`);
      await other.page.getByText(`Signed in as ${s.server.user.username} (admin).`).waitFor();

      await section.getByRole("button", { name: "Unlink Acme SSO" }).click();
      await page
        .getByRole("status")
        .getByText("Your account is unlinked; sign in with your password from now on.")
        .waitFor();
      await page.getByRole("link", { name: "Link your Acme SSO account" }).waitFor();
      expect(problems).toEqual([]);
    });

    test("with passwords off, the sign-in page is the provider's button alone, and it signs in", async () => {
      // Another instance on the same database, set up so.
      const only = startBareServer(t, { ...s.env, PASSWORD_SIGN_IN: "false" });
      await provider.register(only.url);
      try {
        const { page } = await s.open({ person: null });
        const problems = parleyProblems(page, only.url);
        await page.goto(`${only.url}/signin`);
        expect(await page.getByLabel("Password").count()).toBe(0);
        await shotAllSizes(s, page, "signin-provider-only");
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
        await atProvider(page, "carla");
        await page.waitForURL(`${only.url}/`);
        await page.goto(`${only.url}/account`);
        await page.getByText("Signed in as carla.").waitFor();
        expect(problems).toEqual([]);
      } finally {
        await only.stop();
      }
    });
  },
);
