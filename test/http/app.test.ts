import { afterAll, beforeAll, expect, test } from "bun:test";
import { chats } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

eachDriver("the HTTP app", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t);
  });
  afterAll(() => server.stop());

  const get = (path: string, headers: Record<string, string> = {}) => server.fetch(path, { headers });

  test("the home page renders through the stack, listing chats newest first with titles escaped", async () => {
    await t.database.db.insert(chats).values([
      { userId: server.user.id, title: "Older chat", model: "m", updatedAt: new Date("2026-01-01T00:00:00Z") },
      {
        userId: server.user.id,
        title: "<script>alert(1)</script>",
        model: "m",
        updatedAt: new Date("2026-03-01T00:00:00Z"),
      },
      { userId: server.user.id, title: "Middle chat", model: "m", updatedAt: new Date("2026-02-01T00:00:00Z") },
    ]);
    const res = await get("/");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const html = await res.text();
    expect(html.startsWith("<!doctype html>")).toBe(true);
    expect(html).not.toContain("<script>alert(1)</script>");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const order = ["&lt;script&gt;", "Middle chat", "Older chat"].map((s) => html.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  test("without an API key the home page says how to set one", async () => {
    expect(await (await get("/")).text()).toContain("OPENROUTER_API_KEY");
  });

  test("every page carries the security headers; no page has inline script or hx-on handlers", async () => {
    const signedOut = (path: string) => fetch(server.url + path, { redirect: "manual" });
    const responses = [
      ...(await Promise.all(
        ["/", "/account", "/admin", `/chats/${crypto.randomUUID()}`, "/healthz", "/no-such-page"].map((p) => get(p)),
      )),
      ...(await Promise.all(["/", "/signin", "/signup"].map(signedOut))),
    ];
    for (const res of responses) {
      const body = await res.text();
      // Pages with a status other than 200 are HTML too (a browser would show plain text otherwise).
      if (body.startsWith("<!doctype html>")) expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
      expect(body).not.toMatch(/\shx-on[:-]/);
      expect(body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
      expect(body).not.toMatch(/\son[a-z]+=/);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(csp).not.toContain("unsafe-eval");
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("same-origin");
    }
  });

  test("/healthz and /readyz answer small JSON documents", async () => {
    const health = await get("/healthz");
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const ready = await get("/readyz");
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "ready", database: t.driver });
  });

  test("an unknown address answers 404: JSON for programs, a page for browsers, no stack", async () => {
    const json = await get("/chats/nope/../../etc/passwd");
    expect(json.status).toBe(404);
    expect(await json.json()).toEqual({ error: "There is nothing at this address." });
    const page = await get("/nothing-here", { accept: "text/html" });
    expect(page.status).toBe(404);
    const body = await page.text();
    expect(body).toContain("There is nothing at this address.");
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
  });

  test("assets are served from content-hashed URLs with long cache headers, compressed on request", async () => {
    const html = await (await get("/")).text();
    const urls = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    // css, KaTeX's css, htmx, the ws extension, app.js, the model picker's script, the icons.
    expect(urls).toHaveLength(8);
    for (const url of urls) {
      expect(url).toMatch(/^\/assets\/[\w-]+\.[0-9a-f]{12}\.(css|js|svg|png)$/);
      const plain = await get(url, { "accept-encoding": "identity" });
      expect(plain.status).toBe(200);
      expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      const body = await plain.arrayBuffer();
      const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12);
      expect(url).toContain(hash);
      const gzipped = await fetch(server.url + url, {
        headers: { "accept-encoding": "gzip" },
        decompress: false,
      } as RequestInit);
      expect(gzipped.headers.get("content-encoding")).toBe("gzip");
      expect(Bun.gunzipSync(new Uint8Array(await gzipped.arrayBuffer())).byteLength).toBe(body.byteLength);
      const cached = await get(url, { "if-none-match": plain.headers.get("etag")! });
      expect(cached.status).toBe(304);
    }
    const htmx = urls.find((u) => u.includes("/htmx."))!;
    expect(await (await get(htmx)).text()).toContain('version:"2.');
  });

  test("KaTeX's stylesheet names its fonts by their hashed URLs, each served as woff2", async () => {
    const html = await (await get("/")).text();
    const cssUrl = html.match(/href="(\/assets\/katex\.[0-9a-f]{12}\.css)"/)?.[1];
    expect(cssUrl).toBeDefined();
    const css = await (await get(cssUrl!)).text();
    const fonts = [...css.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1]!);
    // Every @font-face has one source: the embedded woff2.
    expect(fonts).toHaveLength((css.match(/@font-face/g) ?? []).length);
    expect(fonts.length).toBeGreaterThan(15);
    for (const url of fonts) {
      expect(url).toMatch(/^\/assets\/KaTeX_[\w-]+\.[0-9a-f]{12}\.woff2$/);
      const font = await get(url, { "accept-encoding": "gzip" });
      expect(font.status).toBe(200);
      expect(font.headers.get("content-type")).toBe("font/woff2");
      expect(font.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(new TextDecoder().decode((await font.arrayBuffer()).slice(0, 4))).toBe("wOF2");
    }
  });

  test("nothing but the hashed assets is servable", async () => {
    for (const path of [
      "/assets/app.css",
      "/assets/htmx.js",
      "/assets/..%2Fsrc%2Fcli.ts",
      "/src/cli.ts",
      "/package.json",
      "/static/app.css",
      "/drizzle/0000_init.sql",
    ]) {
      expect((await get(path)).status).toBe(404);
    }
  });
});

eachDriver("readiness", (t) => {
  test("/readyz answers 503 once the database stops answering, while /healthz stays 200", async () => {
    const server = await startTestServer(t);
    try {
      await t.database.close();
      const ready = await server.fetch(`/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: "unavailable", database: t.driver });
      expect((await server.fetch(`/healthz`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
