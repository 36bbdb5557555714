import { afterAll, beforeAll, expect, test } from "bun:test";
import { oneDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

oneDriver("pglite", "the diagram frame", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t);
  });
  afterAll(() => server.stop());

  test("GET /diagram-frame is open to anyone, under its own policy: framed by this site only, scripts only from its files", async () => {
    // Signed out: the frame holds nothing of anyone's.
    const res = await fetch(`${server.url}/diagram-frame`, { redirect: "manual" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const csp = (res.headers.get("content-security-policy") ?? "").split("; ");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("form-action 'none'");
    expect(csp.join("; ")).not.toContain("unsafe-eval");
    expect(csp.find((d) => d.startsWith("script-src"))).not.toContain("unsafe-inline");
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");

    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(2);
    expect(scripts[0]).toMatch(/^\/assets\/mermaid\.[0-9a-f]{12}\.js$/);
    expect(scripts[1]).toMatch(/^\/assets\/diagram-frame\.[0-9a-f]{12}\.js$/);
    // Mermaid comes from the binary, compressed for browsers that ask, and kept a year.
    const mermaid = await fetch(server.url + scripts[0], { headers: { "accept-encoding": "gzip" } });
    expect(mermaid.status).toBe(200);
    expect(mermaid.headers.get("content-encoding")).toBe("gzip");
    expect(mermaid.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await mermaid.text()).toContain('globalThis["mermaid"]');
  });

  test("the chat pages keep their own strict policy and may not be framed", async () => {
    const res = await server.fetch("/");
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
  });
});
