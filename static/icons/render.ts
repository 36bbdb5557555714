/**
 * Renders the PNG icons the web app manifest and iOS need from the SVGs, in the Chromium the
 * browser tests use (no image library to install). Run it again after changing an SVG, and
 * commit the PNGs: `bun static/icons/render.ts`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const here = import.meta.dir;
// "any" icons keep the rounded corners; the maskable one and Apple's fill the whole square,
// since the platform cuts its own shape (iOS would show transparent corners as black).
const ICONS = [
  { svg: join(here, "..", "icon.svg"), size: 192, out: "icon-192.png" },
  { svg: join(here, "..", "icon.svg"), size: 512, out: "icon-512.png" },
  { svg: join(here, "icon-maskable.svg"), size: 512, out: "icon-maskable-512.png" },
  { svg: join(here, "icon-maskable.svg"), size: 180, out: "apple-touch-icon.png" },
];

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium" });
try {
  const page = await browser.newPage();
  for (const icon of ICONS) {
    const data = readFileSync(icon.svg).toString("base64");
    await page.setViewportSize({ width: icon.size, height: icon.size });
    await page.setContent(
      `<style>html,body{margin:0;background:transparent}img{display:block;width:100vw;height:100vh}</style><img src="data:image/svg+xml;base64,${data}">`,
    );
    await page.locator("img").evaluate((img: HTMLImageElement) => img.decode());
    await page.screenshot({ path: join(here, icon.out), omitBackground: true });
  }
} finally {
  await browser.close();
}
