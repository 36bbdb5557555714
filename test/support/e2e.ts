import { afterAll, afterEach, beforeAll } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, CDPSession, Locator, Page } from "playwright-core";
import { type FakeOptions, type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { ARTIFACTS, closeContext, launchBrowser, screenshot, sessionCookie, VIEWPORTS } from "./browser.ts";
import { type Driver, oneDriver, type TestDb } from "./db.ts";
import { startTestServer, type TestServer } from "./server.ts";

type Viewport = { width: number; height: number };
type ContextOptions = NonNullable<Parameters<Browser["newContext"]>[0]>;

/** A phone as Playwright's device list describes one: narrow, touch, a mobile browser. */
export const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } as const;

/** The sizes screenshots are taken at (the project's rule: phone 390×844, desktop 1280×800). */
export const SIZES = { desktop: VIEWPORTS.desktop, phone: PHONE.viewport } as const;

/**
 * Opens the menu a chat's less used header actions are in (Rename, Move to…, Pin, Archive, Export,
 * Delete): the header's More menu from lg, the ⋯ menu narrower. Already open, it stays.
 */
export async function openChatMenu(page: Page): Promise<void> {
  const isOpen = (id: string) => page.locator(`#${id}`).evaluate((el) => el.matches(":popover-open"));
  const more = page.getByRole("button", { name: "More actions" });
  if (await more.isVisible()) {
    if (!(await isOpen("chat-more"))) await more.click();
  } else if (!(await isOpen("chat-actions"))) await page.getByRole("button", { name: "Chat actions" }).click();
}

export type OpenOptions = {
  /** A phone (PHONE: 390×844, touch, a mobile browser) rather than a desktop (1280×800, the default). */
  phone?: boolean;
  /** Another size; with `phone`, the phone's touch and mobile browser at this size. */
  viewport?: Viewport;
  /** The colour scheme the page is told the system prefers; light unless said. */
  scheme?: "light" | "dark";
  /** false: a browser with JavaScript off (what a page does without it). */
  javaScript?: boolean;
  /** Whose session cookie the browser has: the server's own first account unless said; null: no one's. */
  person?: { cookie: string } | null;
  /** Lets the page read and write the clipboard (Copy buttons). */
  clipboard?: boolean;
  /**
   * Sets `window.connected` once the page's socket is open (htmx:wsOpen): a page that is
   * current gets nothing on connecting, so whatever it will look like is there from then on.
   */
  watchSocket?: boolean;
  /** Anything else to do to the context before the page is made (init scripts, permissions). */
  prepare?: (context: BrowserContext) => Promise<unknown> | unknown;
  /** Any other Playwright context options (they win over the ones above). */
  context?: ContextOptions;
};

export type Opened = {
  page: Page;
  context: BrowserContext;
  /** The page's console errors and uncaught exceptions: a page that logs a CSP refusal is not right. */
  problems: string[];
  /** The uncaught exceptions alone (for pages that are expected to log failed connections). */
  errors: string[];
};

export type BrowserSuite = {
  /** The real app, with its first account (an admin) signed in. Assign a new one after a restart: it is the one stopped at the end. */
  server: TestServer;
  /** The environment the server was started with, to start another like it. */
  env: Record<string, string>;
  /** The fake OpenRouter the server talks to (absent with `upstream: false`). */
  fake: FakeUpstream;
  /** The one browser of the whole run. */
  browser: Browser;
  /** A new signed-in context and a page in it; both are closed after the test. */
  open(opts?: OpenOptions): Promise<Opened>;
  /** The context alone, for a test that makes its own pages; closed after the test too. */
  context(opts?: OpenOptions): Promise<BrowserContext>;
  /** A screenshot of the page (or one element) into this suite's folder, as `<name>.png`, for people to look at (not under CI: see TAKING_SHOTS). */
  shot(
    target: Page | Locator,
    name: string,
    options?: { caret?: "hide" | "initial"; fullPage?: boolean },
  ): Promise<unknown>;
  /** This suite's screenshot folder, under test/artifacts. */
  shots: string;
};

export type SuiteOptions = {
  /** The screenshot folder's name under test/artifacts; the suite's name as a slug unless said. */
  shots?: string;
  /** How the fake OpenRouter starts; false: none, and no API key set (the server's bare defaults). */
  upstream?: FakeOptions | false;
  /** More environment for the server, besides the fake's. */
  env?: Record<string, string>;
  /** The first account's name ("tester" unless said). */
  username?: string;
};

type SuiteBody = (s: BrowserSuite, t: TestDb) => void;

/**
 * Declares a browser suite on one driver (see oneDriver) with what every browser test needs: the
 * shared browser, a fake OpenRouter, the real server on the suite's database, and `open`, which
 * makes a signed-in page watching for console errors. Contexts made by `open` are closed after
 * each test (with closeContext, so their sockets close first); the server and the fake stop
 * after the body's own afterAll hooks.
 */
export function browserSuite(driver: Driver, name: string, body: SuiteBody): void;
export function browserSuite(driver: Driver, name: string, options: SuiteOptions, body: SuiteBody): void;
export function browserSuite(
  driver: Driver,
  name: string,
  optionsOrBody: SuiteOptions | SuiteBody,
  maybeBody?: SuiteBody,
): void {
  const [options, body] = typeof optionsOrBody === "function" ? [{}, optionsOrBody] : [optionsOrBody, maybeBody!];
  oneDriver(driver, name, (t) => {
    const opened: BrowserContext[] = [];
    const lent: Kept[] = [];
    const folder = join(ARTIFACTS, options.shots ?? slug(name));
    const s = { shots: folder } as BrowserSuite;

    beforeAll(async () => {
      mkdirSync(folder, { recursive: true });
      s.browser = await launchBrowser();
      const upstream = options.upstream;
      if (upstream !== false) s.fake = startFakeUpstream(upstream);
      s.env = upstream === false ? (options.env ?? {}) : fakeEnv(s.fake, options.env);
      s.server = await startTestServer(t, s.env, { username: options.username });
    });
    afterEach(async () => {
      for (const context of opened.splice(0)) await closeContext(context).catch(() => {});
      for (const taken of lent.splice(0)) await giveBack(taken, s.server.url);
    });

    /** The person's session cookie (the server's first account unless said) and this site's permissions. */
    const admit = async (context: BrowserContext, opts: OpenOptions) => {
      const person = opts.person === undefined ? s.server : opts.person;
      if (person) await context.addCookies([sessionCookie(s.server, person)]);
      if (opts.clipboard) {
        await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: s.server.url });
      }
    };

    s.context = async (opts = {}) => {
      const context = await s.browser.newContext(contextOptionsOf(opts));
      opened.push(context);
      context.on("close", () => {
        const i = opened.indexOf(context);
        if (i >= 0) opened.splice(i, 1);
      });
      await admit(context, opts);
      if (opts.watchSocket) await watchSocket(context);
      await opts.prepare?.(context);
      return context;
    };

    s.open = async (opts = {}) => {
      const { context, page } = opts.prepare || opts.context ? await newPage(opts) : await lend(opts);
      const problems: string[] = [];
      const errors: string[] = [];
      page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
      page.on("pageerror", (e) => {
        problems.push(e.message);
        errors.push(e.message);
      });
      return { page, context, problems, errors };
    };

    const newPage = async (opts: OpenOptions) => {
      const context = await s.context(opts);
      return { context, page: await context.newPage() };
    };

    /** A kept page made as `opts` asks, admitted as `opts` says. */
    const lend = async (opts: OpenOptions): Promise<{ context: BrowserContext; page: Page }> => {
      const contextOptions = contextOptionsOf(opts);
      const key = JSON.stringify([contextOptions, opts.watchSocket ?? false]);
      const taken =
        keptPages.get(key)?.pop() ??
        (await keep(key, contextOptions, await s.browser.newContext(contextOptions), opts.watchSocket ?? false));
      lent.push(taken);
      await admit(taken.context, opts);
      return taken;
    };

    s.shot = (target, shotName, shotOptions = {}) => screenshot(target, join(folder, `${shotName}.png`), shotOptions);

    body(s, t);

    // Registered after the body's hooks, which bun runs first: the body's own clean-up still has a server.
    afterAll(async () => {
      await s.server?.stop();
      await s.fake?.stop();
    });
  });
}

function contextOptionsOf(opts: OpenOptions): ContextOptions {
  return {
    ...(opts.phone ? PHONE : {}),
    viewport: opts.viewport ?? (opts.phone ? PHONE.viewport : VIEWPORTS.desktop),
    colorScheme: opts.scheme ?? "light",
    javaScriptEnabled: opts.javaScript ?? true,
    ...opts.context,
  };
}

/** Sets `window.connected` once the page's socket is open (OpenOptions.watchSocket). */
function watchSocket(context: BrowserContext) {
  return context.addInitScript(() => {
    const w = window as unknown as { connected: boolean };
    w.connected = false;
    document.addEventListener("htmx:wsOpen", () => {
      w.connected = true;
    });
  });
}

/** Playwright's own event emitter, as far as a kept page needs it (not in its types). */
type Emitter = {
  eventNames(): (string | symbol)[];
  rawListeners(event: string | symbol): unknown[];
  removeListener(event: string | symbol, listener: unknown): void;
};
const listenersOf = (emitter: Emitter) =>
  new Map(emitter.eventNames().map((event) => [event, new Set(emitter.rawListeners(event))]));

/** A page kept open between tests, with what it had when it was made and the origins it has been on since. */
type Kept = {
  key: string;
  options: ContextOptions;
  context: BrowserContext;
  page: Page;
  cdp: CDPSession;
  origins: Set<string>;
  listeners: { page: Map<string | symbol, Set<unknown>>; context: Map<string | symbol, Set<unknown>> };
};

/**
 * Pages kept between tests (and files: one worker runs many), by how their context was made.
 * Opening a tab is the costliest thing a test does in Chromium here: ~2.5 s of CPU (the tab and
 * its renderer, measured with and without Playwright), against ~0.3 s for a navigation and ~0.1 s
 * for a screenshot, and the browser suites opened ~140 of them. `open` lends a kept one, which is
 * given back after the test as a new one would be: blank, with no history, cookies, permissions,
 * storage or cache, and without the listeners the test added. (Session storage is the tab's and
 * is not cleared: the app keeps nothing there.)
 */
const keptPages = new Map<string, Kept[]>();

async function keep(key: string, options: ContextOptions, context: BrowserContext, watching: boolean): Promise<Kept> {
  if (watching) await watchSocket(context);
  const page = await context.newPage();
  const origins = new Set<string>();
  page.on("framenavigated", (frame) => {
    const origin = URL.parse(frame.url())?.origin;
    if (origin && origin !== "null") origins.add(origin);
  });
  return {
    key,
    options,
    context,
    page,
    cdp: await context.newCDPSession(page),
    origins,
    listeners: {
      page: listenersOf(page as unknown as Emitter),
      context: listenersOf(context as unknown as Emitter),
    },
  };
}

/** Back to the pool as a new page would be; closed instead if the test closed it or it will not reset. */
async function giveBack(kept: Kept, site: string): Promise<void> {
  const { context, page, cdp } = kept;
  try {
    if (page.isClosed()) throw new Error("closed by its test");
    for (const [emitter, had] of [
      [page, kept.listeners.page],
      [context, kept.listeners.context],
    ] as const) {
      const e = emitter as unknown as Emitter;
      for (const event of e.eventNames()) {
        for (const listener of e.rawListeners(event))
          if (!had.get(event)?.has(listener)) e.removeListener(event, listener);
      }
    }
    // Blank first, as closeContext does: a page closed with its sockets open let late frames reach
    // Playwright for objects it had dropped.
    for (const other of context.pages()) {
      if (other === page) continue;
      await other.goto("about:blank").catch(() => {});
      await other.close();
    }
    await page.unrouteAll({ behavior: "ignoreErrors" });
    await context.unrouteAll({ behavior: "ignoreErrors" });
    await page.goto("about:blank", { timeout: 10_000 });
    await page.mouse.move(0, 0);
    await cdp.send("Page.resetNavigationHistory");
    kept.origins.add(new URL(site).origin);
    for (const origin of kept.origins) await cdp.send("Storage.clearDataForOrigin", { origin, storageTypes: "all" });
    kept.origins.clear();
    await cdp.send("Network.clearBrowserCache");
    await context.clearCookies();
    await context.clearPermissions();
    await page.setViewportSize(kept.options.viewport!);
    await page.emulateMedia({
      media: null,
      colorScheme: kept.options.colorScheme,
      reducedMotion: null,
      forcedColors: null,
    });
  } catch {
    await context.close().catch(() => {});
    return;
  }
  const idle = keptPages.get(kept.key) ?? [];
  idle.push(kept);
  keptPages.set(kept.key, idle);
}

const slug = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

/** Screenshots of the page at both sizes in both colour schemes (`<name>-<size>-<scheme>`), then back to desktop light. */
export async function shotAllSizes(s: BrowserSuite, page: Page, name: string): Promise<void> {
  for (const [size, viewport] of Object.entries(SIZES)) {
    for (const scheme of ["light", "dark"] as const) {
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      // caret "initial": Playwright hides the caret with an inline <style>, which the page's CSP refuses.
      await s.shot(page, `${name}-${size}-${scheme}`, { caret: "initial" });
    }
  }
  await page.setViewportSize(SIZES.desktop);
  await page.emulateMedia({ colorScheme: "light" });
}

/**
 * Opens a message's editor and answers its box, once app.js has put the cursor at the end of the
 * words (on the editor's toggle event): a fill racing that had its selection collapsed, and typed
 * after the old words.
 */
export async function openEditor(page: Page, question: Locator): Promise<Locator> {
  await question.getByText("Edit", { exact: true }).click();
  const box = question.getByLabel("Your edit");
  await box.waitFor();
  await page.waitForFunction((el) => document.activeElement === el, await box.elementHandle());
  return box;
}
