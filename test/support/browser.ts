import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Screenshots land here for people to look at; CI keeps them as artifacts. */
export const ARTIFACTS = join(import.meta.dir, "..", "artifacts");

/**
 * Debian's Chromium, headless, with its calls home switched off (this network refuses them).
 * Missing Chromium is a failure, not a skip: install it with `apt-get install chromium`.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`No Chromium at ${CHROMIUM}: install Debian's chromium package (or set CHROMIUM_PATH).`);
  }
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
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
    ],
  });
}

export const VIEWPORTS = {
  phone: { width: 375, height: 740 },
  desktop: { width: 1280, height: 800 },
} as const;

/**
 * Closes a context after letting its pages' WebSockets close cleanly. Closing it with sockets
 * still open lets a late frame reach Playwright for an object it already dropped, which it
 * throws ("Cannot find object to frameReceived") into whichever test runs next.
 */
export async function closeContext(context: BrowserContext): Promise<void> {
  for (const page of context.pages()) await page.goto("about:blank").catch(() => {});
  await Bun.sleep(50);
  await context.close();
}
