import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, usage, users } from "../../src/db/schema.ts";
import { browserSuite } from "../support/e2e.ts";

const SIZES = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 800 } } as const;

browserSuite("postgres", "spending limits in the browser", { shots: "limits" }, (s, t) => {
  test("over the limit, the composer says so, a send shows the refusal where its answer would be, and the account page says what is left", async () => {
    const person = await s.server.signUp("frugal");
    const db = t.database.db;
    await db.update(users).set({ dailyLimit: 2, monthlyLimit: 30 }).where(eq(users.id, person.user.id));
    await db
      .insert(usage)
      .values({ userId: person.user.id, kind: "answer", model: "fake/fast", estimate: 1.7, cost: 1.7 });
    const [chat] = await db
      .insert(chats)
      .values({ userId: person.user.id, title: "Budget", model: "fake/fast" })
      .returning();

    // One page, resized and told the other scheme: a new context per look cost ~1 s each.
    const { page } = await s.open({ person });
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        const shot = (name: string) => s.shot(page, `${name}-${size}-${colorScheme}`);
        await page.goto(`${s.server.url}/account`);
        const left = await page.locator("#allowances").textContent();
        expect(left).toContain("$0.30 of $2.00 left today");
        expect(left).toContain("$28.30 of $30.00 left this month");
        await shot("account");
        await page.goto(`${s.server.url}/chats/${chat!.id}`);
        await page.waitForSelector("#composer");
        // Under a fifth of the day's limit left: the composer says how much.
        expect(await page.locator("#spending-notice").textContent()).toBe("$0.30 of $2.00 left today.");
        await shot("notice");
      }
    }

    // Reached: a send is kept, and its answer says which limit, how much and when it resets.
    await db
      .insert(usage)
      .values({ userId: person.user.id, kind: "answer", model: "fake/fast", estimate: 0.4, cost: 0.4 });
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
    await page.goto(`${s.server.url}/chats/${chat!.id}`);
    expect(await page.locator("#spending-notice").textContent()).toMatch(
      /^You have reached your daily limit of \$2\.00; it resets at 00:00 UTC, in \d+ (hours?|minutes?)\.$/,
    );
    await page.fill("#message", "one more question");
    await page.click("#composer-controls button[type=submit]");
    const refusal = page.locator('article[data-role="assistant"][data-status="error"]').last();
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("You have reached your daily limit of $2.00 (spent $2.10)");
    expect(await page.locator('article[data-role="user"]').last().textContent()).toContain("one more question");
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        await page.goto(`${s.server.url}/chats/${chat!.id}`);
        await page.waitForSelector('article[data-role="assistant"][data-status="error"]');
        await s.shot(page, `refused-${size}-${colorScheme}`);
      }
    }
  });

  test("the admin page sets the site's limits and a person's own, and says what is wrong with a bad amount", async () => {
    const { user } = await s.server.signUp("limited");
    const { page } = await s.open();
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const colorScheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme });
        await page.goto(`${s.server.url}/admin`);
        await page.fill("#field-day", "-3");
        await page.click('#site-limits button[type="submit"]');
        expect(await page.locator('[role="alert"]').first().textContent()).toContain(
          "The default daily limit cannot be negative",
        );
        await page.fill("#field-day", "5");
        await page.fill("#field-month", "50");
        await page.fill("#field-siteMonth", "400");
        await page.click('#site-limits button[type="submit"]');
        await page.waitForURL(/done=limits-saved/);
        expect(await page.inputValue("#field-day")).toBe("5");
        await page.locator(`#user-${user.id} summary`).click();
        await page.fill(`#field-day-${user.id}`, "1.5");
        await page.locator(`#user-${user.id} form[action$="/limits"] button`).click();
        await page.waitForURL(/done=person-limits-saved/);
        expect(await page.locator(`#user-${user.id}`).textContent()).toContain("own limit $1.50 a day");
        await page.locator("#site-limits").scrollIntoViewIfNeeded();
        await s.shot(page, `admin-${size}-${colorScheme}`, { fullPage: true });
      }
    }
  });
});
