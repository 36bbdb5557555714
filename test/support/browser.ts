import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Screenshots land here for people to look at. */
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

/**
 * Whether the browser tests take their screenshots: they are for people to look at, and CI's
 * clean clone is thrown away after the run, so there they are skipped (~330 a run, a tenth of a
 * second of CPU each) unless TEST_SHOTS=1. TEST_SHOTS=0 skips them anywhere.
 */
export const TAKING_SHOTS = process.env.TEST_SHOTS ? process.env.TEST_SHOTS === "1" : process.env.CI !== "true";

/** A screenshot of a page or an element into `path`, when screenshots are taken (TAKING_SHOTS). */
export async function screenshot(
  target: Page | Locator,
  path: string,
  options: { caret?: "hide" | "initial"; fullPage?: boolean } = {},
): Promise<void> {
  if (TAKING_SHOTS) await target.screenshot({ path, ...options });
}

let shared: Promise<Browser> | undefined;

/**
 * Debian's Chromium, headless, with its calls home switched off (this network refuses them).
 * One browser serves every file a test worker runs (`bun test --no-isolate`), and ends with the
 * worker (Chromium exits when the process that launched it does, killed or not): closing one per
 * file let the previous browser's late WebSocket events reach Playwright after it had dropped
 * their objects, and it threw them into the next file's first test.
 * Missing Chromium is a failure, not a skip: install it with `apt-get install chromium`.
 */
export function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package (or set CHROMIUM_PATH).`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  shared ??= chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      // Chromium runs sandboxed frames (the diagram frame) in a process of their own; on a busy
      // machine Playwright sometimes attaches to that process without the frame's document (seen:
      // the frame drew and told the page its height, while page.frames() listed it with an empty
      // URL and no svg could be found in it), so a diagram test waited a minute for a drawing that
      // was there. In-process, the frame is the page's like any other; what the product does with
      // it (sandbox, its own CSP, messages) is the same.
      "--disable-features=IsolateSandboxedIframes",
    ],
  });
  return shared;
}

/** For scripts that end the browser themselves (test/screenshots.ts). */
export async function closeBrowser(): Promise<void> {
  const browser = shared;
  shared = undefined;
  if (browser) await (await browser).close();
}

export const VIEWPORTS = {
  phone: { width: 375, height: 740 },
  desktop: { width: 1280, height: 800 },
} as const;

/**
 * Closes a context after letting its pages' WebSockets close cleanly: closing it with sockets
 * still open let late frames reach Playwright for objects it had already dropped.
 */
export async function closeContext(context: BrowserContext): Promise<void> {
  for (const page of context.pages()) await page.goto("about:blank").catch(() => {});
  await Bun.sleep(50);
  await context.close();
}

/** A browser context already signed in as `person` (their session cookie set for the site). */
export async function signedInContext(
  browser: Browser,
  site: { url: string },
  person: { cookie: string },
  options: Parameters<Browser["newContext"]>[0] = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.addCookies([sessionCookie(site, person)]);
  return context;
}

/** `person`'s session cookie for the site, as their browser holds it. */
export function sessionCookie(site: { url: string }, person: { cookie: string }) {
  const [name, value] = person.cookie.split("=") as [string, string];
  return { name, value, url: site.url, httpOnly: true, sameSite: "Lax" as const };
}
