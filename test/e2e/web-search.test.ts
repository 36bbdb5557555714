import { expect, test } from "bun:test";
import { browserSuite, shotAllSizes } from "../support/e2e.ts";

const SUITE = { shots: "web-search", username: "reader-ann" };
browserSuite("postgres", "searching the web in Chromium", SUITE, (s) => {
  test("switch Search the web on, send: the answer cites its sources by number and lists them; the chat keeps the switch on after a reload", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const toggle = page.getByRole("checkbox", { name: "Search the web" });
    expect(await toggle.isChecked()).toBe(false);
    await toggle.check({ force: true });
    expect(await toggle.isChecked()).toBe(true);

    s.fake.queue({
      text: "Swifts sleep on the wing ([birds.example](https://birds.example/swifts)), for months at a time [2].",
      tokenDelayMs: 5,
      citations: [
        { url: "https://birds.example/swifts", title: "Common swift — <b>facts</b>", content: "Swifts stay airborne." },
        { url: "https://www.science.example/flight-sleep", title: "Sleeping in flight" },
      ],
    });
    await page.getByLabel("Message").fill("Do swifts sleep while flying?");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const answer = page.locator('article[data-role="assistant"][data-status="complete"]');
    await answer.waitFor();
    const request = s.fake.requests.find(
      (r) => r.body.stream && r.body.messages.at(-1)?.content === "Do swifts sleep while flying?",
    );
    expect(request?.body.plugins).toEqual([{ id: "web", max_results: 5 }]);

    const sources = answer.getByRole("region", { name: "Sources" });
    const links = sources.getByRole("link");
    expect(await links.allTextContents()).toEqual(["Common swift — <b>facts</b>", "Sleeping in flight"]);
    expect(await links.first().getAttribute("target")).toBe("_blank");
    expect(await links.first().getAttribute("rel")).toBe("noopener noreferrer");
    expect(await sources.getByText("science.example").isVisible()).toBe(true);
    const citations = answer.locator("sup.citation a");
    expect(await citations.allTextContents()).toEqual(["1", "2"]);

    // A citation leads to its source in the list.
    await citations.nth(1).click();
    expect(await page.evaluate(() => location.hash)).toMatch(/^#src-[0-9a-f-]+-2$/);
    expect(await sources.locator("li:target").textContent()).toContain("Sleeping in flight");
    await shotAllSizes(s, page, "answer-with-sources");

    // Remembered by the chat: the switch is still on after a reload, and the next message searches too.
    await page.reload();
    expect(await page.getByRole("checkbox", { name: "Search the web" }).isChecked()).toBe(true);
    await page.getByRole("checkbox", { name: "Search the web" }).uncheck({ force: true });
    await page.getByLabel("Message").fill("Thanks");
    await page.getByLabel("Message").press("Enter");
    await page.locator('article[data-role="assistant"][data-status="complete"]').nth(1).waitFor();
    const second = s.fake.requests.find((r) => r.body.stream && r.body.messages.at(-1)?.content === "Thanks");
    expect(second?.body.plugins).toBeUndefined();
    await page.reload();
    expect(await page.getByRole("checkbox", { name: "Search the web" }).isChecked()).toBe(false);
    expect(problems).toEqual([]);
  });
});
