import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { closeContext, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { browserSuite } from "../support/e2e.ts";
import { createKey } from "../support/keys.ts";
import type { Person } from "../support/server.ts";

// axe-core's own build, evaluated in the page: page.addScriptTag would add an inline <script>,
// which the page's CSP (script-src 'self') rightly refuses; evaluate is not governed by the CSP.
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** An answer with what models write: code, a table, links, a list, a quote. */
const RICH_ANSWER = [
  "Here is **the plan**, with [the docs](https://example.com/docs) and <https://example.org>:",
  "",
  "| Crop | Sow | Harvest |",
  "| --- | --- | --- |",
  "| Tomato | March | August |",
  "| Bean | May | July |",
  "",
  "```python",
  "def water(plants, litres=2):",
  '    """Water every plant."""',
  "    return [p.water(litres) for p in plants if p.dry]",
  "```",
  "",
  "1. Sow `seeds` indoors.",
  "2. Plant out after frost.",
  "",
  "> Patience is a gardener's tool.",
].join("\n");

type Violation = { id: string; impact: string; help: string; targets: string[] };

/**
 * Rules whose result depends on the colours alone: in the dark scheme only these are run again,
 * as the page is otherwise the same (its layout follows the viewport, not the scheme).
 */
const COLOUR_RULES = ["color-contrast", "link-in-text-block"];

/**
 * axe's serious and critical violations on the page as it is now (`rules`: only these), and a
 * missing h1 (only a "moderate" rule in axe, but every page here must have one).
 */
async function seriousViolations(page: Page, rules?: string[]): Promise<Violation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (only) => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<AxeResults> } }).axe;
    type AxeResults = {
      violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
    };
    const runOnly = only ? { runOnly: { type: "rule", values: only } } : {};
    const results = await axe.run(document, { resultTypes: ["violations"], ...runOnly });
    return results.violations
      .filter((v) => v.impact === "serious" || v.impact === "critical" || v.id === "page-has-heading-one")
      .map((v) => ({
        id: v.id,
        impact: v.impact ?? "",
        help: v.help,
        targets: v.nodes.map((n) => n.target.map(String).join(" ")),
      }));
  }, rules);
}

const SUITE = { shots: "a11y", username: "gardener-ann" };
browserSuite("pglite", "accessibility of every page (axe-core)", SUITE, (s) => {
  let member: Person;
  const urls: Record<string, string> = {};

  /** Sends a message from the new-chat page and waits for its answer to end. */
  const converse = async (page: Page, text: string, ended: string) => {
    await page.goto(s.server.url);
    await page.getByLabel("Message").fill(text);
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator(`article[data-role="assistant"]${ended}`).last().waitFor();
    return page.url();
  };

  beforeAll(async () => {
    member = await s.server.signUp("bob");
    await s.server.app.decorator.auth.setSignupOpen(true);
    const { page, context } = await s.open();

    s.fake.queue({ text: RICH_ANSWER, tokenDelayMs: 2, tokenSize: 20 });
    urls.chat = await converse(page, "How do I grow tomatoes?", '[data-status="complete"]');
    s.fake.queue({ errorAfterTokens: 6, tokenDelayMs: 5 });
    urls.failed = await converse(page, "Tell me about beans", '[data-status="error"]');
    // Stopped, in the same chat: one page shows a failed answer and a stopped one.
    s.fake.queue({ text: "word ".repeat(200), tokenDelayMs: 20, tokenSize: 5, stallAfterTokens: 5 });
    await page.getByLabel("Message").fill("And peas?");
    await page.getByLabel("Message").press("Enter");
    await page.locator("#composer-controls").getByRole("button", { name: "Stop" }).click();
    await page.locator('article[data-role="assistant"][data-status="stopped"]').waitFor();

    const chatId = urls.chat.split("/").pop()!;
    const html = await (await s.server.fetch(`/chats/${chatId}/shares`, { method: "POST" })).text();
    urls.share = html.match(/\/s\/[A-Za-z0-9_-]+/)![0];

    // A team: a group with Bob in it and an allow-list, limits that apply, a personal API key.
    const post = (path: string, fields: Record<string, string>) =>
      s.server.fetch(path, { method: "POST", body: new URLSearchParams(fields) });
    const made = await post("/admin/groups", { name: "Gardeners" });
    urls.group = made.headers.get("location")!.replace(/\?.*/, "");
    expect(urls.group).toMatch(/^\/admin\/groups\/[0-9a-f-]+$/);
    expect((await post(`${urls.group}/members`, { user: member.user.id })).status).toBe(303);
    expect((await post(`${urls.group}/models`, { mode: "only", patterns: "fake/*" })).status).toBe(303);
    expect((await post("/admin/limits", { day: "5", month: "50", siteMonth: "" })).status).toBe(303);
    await createKey(s.server, "garden scripts");
    await closeContext(context);
  });

  type Visit = {
    name: string;
    path: () => string;
    who?: "admin" | "member" | "nobody";
    prepare?: (page: Page) => Promise<void>;
  };
  const VISITS: Visit[] = [
    { name: "sign-in", path: () => "/signin", who: "nobody" },
    { name: "sign-up", path: () => "/signup", who: "nobody" },
    { name: "new-chat", path: () => "/" },
    { name: "chat", path: () => new URL(urls.chat!).pathname },
    { name: "stopped-and-failed", path: () => new URL(urls.failed!).pathname },
    {
      name: "search",
      path: () => "/",
      prepare: async (page) => {
        const phone = (page.viewportSize()?.width ?? 0) < 768;
        if (phone) await page.getByRole("button", { name: "Chats" }).click();
        await page.getByLabel("Search chats").fill("tomatoes");
        await page.getByRole("list", { name: "Search results" }).waitFor();
      },
    },
    { name: "account", path: () => "/account" },
    { name: "admin", path: () => "/admin" },
    { name: "groups", path: () => "/admin/groups" },
    { name: "tools", path: () => "/admin/tools" },
    { name: "group", path: () => urls.group! },
    { name: "usage", path: () => "/admin/usage" },
    { name: "audit-log", path: () => "/admin/audit" },
    { name: "own-usage", path: () => "/account/usage" },
    { name: "presets", path: () => "/presets" },
    { name: "import", path: () => "/account/import" },
    { name: "share", path: () => urls.share!, who: "nobody" },
    { name: "forbidden", path: () => "/admin", who: "member" },
    { name: "not-found", path: () => "/nowhere" },
    { name: "no-such-chat", path: () => "/chats/00000000-0000-7000-8000-000000000000" },
  ];

  // A test per page, each at both sizes in both schemes: one test for all pages at one size ran
  // for minutes on a busy machine and hit the time limit, naming no page. The pages (one per size
  // and person, each in a context of its own) are made once and go from visit to visit: a new page
  // costs ~0.5 s of Chromium's time. Each visit is loaded once per size and then told the system
  // prefers dark: loading it again for that, with axe's 500 KB evaluated again, took a third of
  // the suite's time.
  const pages = new Map<string, Promise<Page>>();
  const pageFor = (viewport: { width: number; height: number }, who: string) => {
    const key = `${viewport.width}-${who}`;
    let made = pages.get(key);
    if (!made) {
      const person = who === "admin" ? s.server : who === "member" ? member : null;
      const context = person
        ? signedInContext(s.browser, s.server, person, { viewport })
        : s.browser.newContext({ viewport });
      made = context.then((c) => c.newPage());
      pages.set(key, made);
    }
    return made;
  };
  afterAll(async () => {
    for (const made of pages.values()) await closeContext((await made).context());
  });

  for (const visit of VISITS) {
    test(`no serious or critical violation on the ${visit.name} page (phone and desktop, light and dark)`, async () => {
      const found: string[] = [];
      for (const [size, viewport] of Object.entries(VIEWPORTS)) {
        const page = await pageFor(viewport, visit.who ?? "admin");
        await page.emulateMedia({ colorScheme: "light" });
        await page.goto(s.server.url + visit.path(), { waitUntil: "load" });
        await visit.prepare?.(page);
        for (const colorScheme of ["light", "dark"] as const) {
          await page.emulateMedia({ colorScheme });
          // Colours that change with the scheme may be transitions: axe must read where they end
          // (a transition replaced by another is cancelled, and its promise rejects).
          await page.evaluate(() =>
            Promise.all(
              document
                .getAnimations()
                .filter((a) => a instanceof CSSTransition)
                .map((a) => a.finished.catch(() => {})),
            ),
          );
          for (const v of await seriousViolations(page, colorScheme === "dark" ? COLOUR_RULES : undefined)) {
            found.push(`${size}, ${colorScheme}: ${v.id} (${v.impact}) ${v.help}\n    ${v.targets.join("\n    ")}`);
          }
          await s.shot(page, `${visit.name}-${size}-${colorScheme}`, { fullPage: true });
        }
      }
      expect(found.join("\n")).toBe("");
    });
  }
});
