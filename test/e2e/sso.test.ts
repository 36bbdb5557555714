import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { browserSuite, shotAllSizes } from "../support/e2e.ts";
import { CLIENT_ID, CLIENT_SECRET, startOidcProvider, type TestProvider } from "../support/oidc-provider.ts";
import { startBareServer } from "../support/server.ts";

const provider: TestProvider = await startOidcProvider();
afterAll(() => provider.stop());
provider.people.set("carla", { sub: "carla", preferred_username: "carla", email: "carla@example.com" });
provider.people.set("dmitri", { sub: "dmitri", preferred_username: "dmitri" });

/**
 * A person at the provider's own (development) login and consent pages. Already signed in there
 * and consent given (an earlier step in this browser), the provider sends them straight back.
 */
async function atProvider(page: Page, login: string, consent: "give" | "refuse" = "give") {
  await page.waitForURL((url) => url.origin === provider.issuer);
  const name = page.locator('input[name="login"]');
  if (await name.isVisible()) {
    await name.fill(login);
    await page.locator('input[name="password"]').fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
  }
  const asked = page.getByRole("button", { name: "Continue" });
  const next = await Promise.race([
    asked.waitFor().then(() => "consent"),
    page.waitForURL((url) => url.origin !== provider.issuer).then(() => "back"),
    page
      .locator("#held")
      .waitFor()
      .then(() => "held"),
  ]);
  if (next !== "consent") return;
  if (consent === "refuse") await page.getByRole("link", { name: "[ Cancel ]" }).click();
  else await asked.click();
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

    test("every failure in a browser: a sentence on the sign-in page, and still signed out", async () => {
      const { page, context } = await s.open({ person: null });
      /** Through the provider as `login`, the return to Parley held (see holdReturns): its URL, and the trip cookie. */
      const held = async (login: string) => {
        provider.holdReturns = true;
        try {
          await page.goto(`${s.server.url}/signin`);
          await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
          await atProvider(page, login);
          const url = await page.locator("#held").textContent();
          const trip = (await context.cookies()).find((c) => c.name === "parley_sso")!;
          expect(trip).toBeDefined();
          return { url: url!, trip };
        } finally {
          provider.holdReturns = false;
        }
      };
      const sentence = async (text: string) => {
        await page.getByRole("alert").getByText(text).waitFor();
        expect((await context.cookies(s.server.url)).some((c) => c.name === "parley_session")).toBe(false);
      };

      // The state changed on the way back.
      const forged = await held("carla");
      const changed = new URL(forged.url);
      changed.searchParams.set("state", "someone-elses");
      await page.goto(changed.href);
      await sentence("This sign-in does not match the one this browser started");
      // The real return, after that: the trip is over.
      await page.goto(forged.url);
      await sentence("This sign-in has expired or was already used, so nobody was signed in. Start again.");

      // A code used once, then presented again with a copy of the trip cookie.
      const used = await held("carla");
      await page.goto(used.url);
      await page.waitForURL(`${s.server.url}/`);
      await context.clearCookies();
      await context.addCookies([used.trip]);
      await page.goto(used.url);
      await sentence(
        "The sign-in code from Acme SSO had expired or was already used, so nobody was signed in. Start again.",
      );

      // A code kept past its lifetime.
      provider.codeSeconds = 1;
      try {
        const slow = await held("carla");
        await Bun.sleep(2100);
        await page.goto(slow.url);
        await sentence(
          "The sign-in code from Acme SSO had expired or was already used, so nobody was signed in. Start again.",
        );
      } finally {
        provider.codeSeconds = 60;
      }

      // An ID token for another client.
      provider.audience = "another-app";
      try {
        await page.goto(`${s.server.url}/signin`);
        // Signed in at the provider, with consent given, since the first step: straight back.
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
        await sentence("Acme SSO sent a token meant for another application, so nobody was signed in.");
        await shotAllSizes(s, page, "signin-wrong-audience");
      } finally {
        provider.audience = undefined;
      }

      // A Parley with the wrong client secret, and one whose provider does not answer.
      const wrong = startBareServer(t, { ...s.env, OIDC_CLIENT_SECRET: "not-the-secret" });
      const away = startBareServer(t, { ...s.env, OIDC_ISSUER: "http://127.0.0.1:9/" });
      await provider.register(wrong.url);
      try {
        await page.goto(`${wrong.url}/signin`);
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
        // The provider, set up afresh for the new Parley, asks to sign in again.
        await atProvider(page, "carla");
        await page.getByRole("alert").getByText("Acme SSO refused Parley's client credentials").waitFor();
        await page.goto(`${away.url}/signin`);
        await page.getByRole("link", { name: "Sign in with Acme SSO" }).click();
        await page.getByRole("alert").getByText("Acme SSO could not be reached, so you are not signed in.").waitFor();
        await shotAllSizes(s, page, "signin-unreachable");
        expect((await context.cookies(wrong.url)).some((c) => c.name === "parley_session")).toBe(false);
      } finally {
        await wrong.stop();
        await away.stop();
      }
    });
  },
);
