import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Browser } from "playwright-core";
import { messages } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, signedInContext, VIEWPORTS } from "../support/browser.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

let browser: Browser;
let fake: FakeUpstream;
beforeAll(async () => {
  browser = await launchBrowser();
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** Every way we know to make a page run or fetch something; each tries to reach /pwned or another host. */
const HOSTILE = [
  "<script>fetch('/pwned?script')</script>",
  `<img src=x onerror="fetch('/pwned?img')">`,
  `<svg onload="fetch('/pwned?svg')"></svg>`,
  `<iframe src="javascript:fetch('/pwned?iframe')"></iframe>`,
  `<details open ontoggle="fetch('/pwned?toggle')">x</details>`,
  `<div hx-get="/pwned?htmx" hx-trigger="load">htmx</div>`,
  `<meta http-equiv="refresh" content="0;url=https://evil.example/">`,
  "<style>body{background:url(https://evil.example/bg)}</style>",
  `<form action="https://evil.example/"><button>go</button></form>`,
  "[js link](javascript:fetch('/pwned?jslink'))",
  "[data link](data:text/html;base64,PHNjcmlwdD5mZXRjaCgnL3B3bmVkJyk8L3NjcmlwdD4=)",
  "[entity link](&#106;avascript:fetch('/pwned?entity'))",
  "![remote image](https://evil.example/pixel.png)",
  "![svg image](data:image/svg+xml,<svg onload=fetch('/pwned?dataimg')>)",
  "&lt;script&gt;fetch('/pwned?escaped')&lt;/script&gt;",
  "`<b onmouseover=fetch('/pwned?code')>inline code</b>`",
  "```html\n<script>fetch('/pwned?fence')</script>\n```",
  "{{constructor.constructor('fetch(\"/pwned?template\")')()}}",
  `Unicode: \u202eevil.exe\u202c, z̸̡̢̛̗̘̙̜̝̞̟̠̀́̂̃̄̅̆̇̉̊̋̌̍̎̏̐̑̒̓̔̽̾̿͂̓̈́͆͊͋͌ͅ͏͓͔͕͖͙͚͐͑͒͗͛ͣͤͥͦͧͨͩͪͫͬͭͮͯ͘͜͟͢͝͞͠͡algo, 👩‍👩‍👧‍👦, a NUL here:\u0000end`,
  `A long word: ${"W".repeat(3000)}`,
].join("\n\n");

eachDriver("hostile text in the browser", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  test("a person's message and a model's answer full of markup and tricks render as inert text: no script runs, no request leaves", async () => {
    const context = await signedInContext(browser, server, server, { viewport: VIEWPORTS.phone });
    const page = await context.newPage();
    const leaks: string[] = [];
    page.on("request", (req) => {
      const url = req.url();
      if (url.includes("pwned") || !(url.startsWith(server.url) || url.startsWith("data:"))) leaks.push(url);
    });
    page.on("dialog", (dialog) => {
      leaks.push(`dialog: ${dialog.message()}`);
      void dialog.dismiss();
    });
    page.on("console", (msg) => {
      if (/Content Security Policy|Refused to/.test(msg.text())) leaks.push(`csp: ${msg.text()}`);
    });
    page.on("pageerror", (err) => leaks.push(`error: ${err.message}`));

    fake.queue({ text: HOSTILE, tokenSize: 40, tokenDelayMs: 2 });
    await page.goto(server.url);
    await page.getByLabel("Message").fill(HOSTILE);
    await page.getByLabel("Message").press("Enter");
    const answer = page.locator('article[data-role="assistant"][data-status="complete"]');
    await answer.waitFor({ timeout: 30_000 });
    await page.waitForTimeout(300); // let any late handler or request show itself

    // Nothing that could act made it into a message's body as an element or an attribute.
    const bodies = page.locator("#transcript [data-body]");
    expect(await bodies.count()).toBe(2);
    const found = await bodies.evaluateAll((roots) =>
      roots.flatMap((root) =>
        Array.from(root.querySelectorAll("*")).flatMap((el) => {
          const risky = [
            "SCRIPT",
            "IFRAME",
            "SVG",
            "OBJECT",
            "EMBED",
            "FORM",
            "META",
            "STYLE",
            "IMG",
            "DETAILS",
            "LINK",
          ];
          const bad = risky.includes(el.tagName.toUpperCase()) ? [el.tagName] : [];
          for (const a of Array.from(el.attributes)) {
            if (/^on|^hx-|^ws-|^data-hx/.test(a.name) || /^\s*(javascript|data|vbscript):/i.test(a.value)) {
              bad.push(`${el.tagName} ${a.name}=${a.value}`);
            }
          }
          return bad;
        }),
      ),
    );
    expect(found).toEqual([]);
    const hrefs = await bodies.locator("a[href]").evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    for (const href of hrefs) expect(href).toMatch(/^(https?:\/\/|mailto:|\/(?!\/)|#|[^:]*$)/);

    // The person's text reads exactly as typed (NUL aside), markup and all.
    const userText = (await page.locator('article[data-role="user"]').textContent()) ?? "";
    expect(userText).toContain("<script>fetch('/pwned?script')</script>");
    expect(userText).toContain(`<div hx-get="/pwned?htmx" hx-trigger="load">htmx</div>`);
    expect(userText).toContain("👩‍👩‍👧‍👦");
    const answerText = (await answer.textContent()) ?? "";
    expect(answerText).toContain(`<img src=x onerror="fetch('/pwned?img')">`);
    expect(answerText).toContain("<script>fetch('/pwned?fence')</script>");

    // Stored as typed: the form's CRLF line breaks back to LF, minus the NUL Postgres cannot hold.
    const rows = await t.database.db.select().from(messages).where(eq(messages.role, "user"));
    expect(rows.at(-1)!.content).toBe(HOSTILE.replace("\u0000", "").trim());

    // The 3,000-letter word wraps instead of widening the page.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, join(ARTIFACTS, `hostile-${t.driver}.png`));

    // Reloading renders the stored HTML: still inert.
    await page.reload();
    await answer.waitFor();
    await page.waitForTimeout(300);
    expect(await page.locator("#transcript script, #transcript img, #transcript iframe").count()).toBe(0);
    expect(leaks).toEqual([]);
    await closeContext(context);
  });
});
