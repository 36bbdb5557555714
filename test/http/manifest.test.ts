import { afterAll, beforeAll, expect, test } from "bun:test";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

type Manifest = {
  name: string;
  short_name: string;
  start_url: string;
  display: string;
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
};

eachDriver("installing Parley as an app", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t);
  });
  afterAll(() => server.stop());

  test("the manifest is JSON of its own type, fetched without a session as browsers do", async () => {
    const res = await fetch(`${server.url}/manifest.webmanifest`, { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/manifest+json");
    const manifest = (await res.json()) as Manifest;
    expect(manifest).toMatchObject({ name: "Parley", short_name: "Parley", start_url: "/", display: "standalone" });
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
    const pngs = manifest.icons.filter((i) => i.type === "image/png");
    expect(pngs.map((i) => `${i.sizes} ${i.purpose}`).sort()).toEqual([
      "192x192 any",
      "512x512 any",
      "512x512 maskable",
    ]);
  });

  test("a manifest the browser already holds is confirmed with 304", async () => {
    const first = await fetch(`${server.url}/manifest.webmanifest`);
    const etag = first.headers.get("etag")!;
    expect(etag).toBeTruthy();
    const again = await fetch(`${server.url}/manifest.webmanifest`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
  });

  test("every icon the manifest names is served as an image of the type and size it claims", async () => {
    const manifest = (await (await fetch(`${server.url}/manifest.webmanifest`)).json()) as Manifest;
    expect(manifest.icons.length).toBeGreaterThanOrEqual(4);
    for (const icon of manifest.icons) {
      expect(icon.src).toMatch(/^\/assets\/[\w-]+\.[0-9a-f]{12}\.(png|svg)$/);
      const res = await fetch(server.url + icon.src);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe(icon.type);
      const bytes = new Uint8Array(await res.arrayBuffer());
      if (icon.type === "image/png") {
        // A PNG's width and height are the IHDR chunk's first two big-endian words.
        const view = new DataView(bytes.buffer);
        expect([...bytes.slice(1, 4)].map((b) => String.fromCharCode(b)).join("")).toBe("PNG");
        expect(`${view.getUint32(16)}x${view.getUint32(20)}`).toBe(icon.sizes);
      } else {
        expect(new TextDecoder().decode(bytes)).toContain("<svg");
      }
    }
  });

  test("pages link the manifest, the home-screen icon and the theme colour, signed in or not", async () => {
    for (const res of [await server.fetch("/"), await fetch(`${server.url}/signin`)]) {
      const html = await res.text();
      expect(html).toContain('<link rel="manifest" href="/manifest.webmanifest"');
      const apple = /<link rel="apple-touch-icon" href="([^"]+)"/.exec(html)?.[1];
      expect(apple).toMatch(/^\/assets\/apple-touch-icon\.[0-9a-f]{12}\.png$/);
      const icon = await fetch(server.url + apple);
      expect(icon.status).toBe(200);
      expect(icon.headers.get("content-type")).toBe("image/png");
      expect(html).toMatch(/<meta name="theme-color" content="#[0-9a-f]{6}" media="\(prefers-color-scheme: dark\)"/);
      expect(html).toMatch(/<link rel="icon" href="\/assets\/icon\.[0-9a-f]{12}\.svg" type="image\/svg\+xml"/);
    }
  });
});
