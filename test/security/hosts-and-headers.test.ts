import { afterAll, beforeAll, expect, test } from "bun:test";
import { chats, users } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import { type BareServer, startBareServer, TEST_PASSWORD } from "../support/server.ts";

const PUBLIC = "https://chat.example.com";

eachDriver("Host names, caching and HSTS", (t) => {
  let server: BareServer;
  let published: BareServer;
  let port: number;
  /** A request to the server by its address, with the Host header a browser would send for `host`. */
  const as = (base: string, host: string, path: string, init: RequestInit = {}) =>
    fetch(base + path, { redirect: "manual", ...init, headers: { Host: host, ...(init.headers as object) } });
  const rebinding = () => `attacker.example:${port}`;

  beforeAll(() => {
    server = startBareServer(t);
    published = startBareServer(t, { PUBLIC_URL: PUBLIC, METRICS_TOKEN: "metrics-secret" });
    port = Number(new URL(server.url).port);
  });
  afterAll(async () => {
    await server.stop();
    await published.stop();
  });

  test("a DNS-rebinding page cannot create the admin of a fresh install, read /metrics or open a socket", async () => {
    const origin = `http://${rebinding()}`;
    const setup = await as(server.url, rebinding(), "/setup", {
      method: "POST",
      headers: { Origin: origin, accept: "text/html" },
      body: new URLSearchParams({ username: "mallory", password: TEST_PASSWORD }),
    });
    expect(setup.status).toBe(421);
    expect(await setup.text()).toContain(
      "This Parley answers only to IP addresses and localhost until its operator sets PUBLIC_URL to the address people use (such as https://chat.example.com).",
    );
    expect(await t.database.db.select().from(users)).toEqual([]);
    expect((await as(server.url, rebinding(), "/metrics")).status).toBe(421);
    const socket = new WebSocket(`${server.url.replace("http", "ws")}/ws`, {
      headers: { Host: rebinding(), Origin: origin },
    } as never);
    const opened = await new Promise<boolean>((resolve) => {
      socket.addEventListener("open", () => resolve(true));
      socket.addEventListener("error", () => resolve(false));
    });
    socket.close();
    expect(opened).toBe(false);
  });

  test("without PUBLIC_URL, loopback names and IP literals are served; health checks answer to any name", async () => {
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      `192.168.1.20:${port}`,
      "10.0.0.7",
    ]) {
      expect([host, (await as(server.url, host, "/signin")).status]).toEqual([host, 303]);
    }
    for (const path of ["/healthz", "/readyz"]) {
      expect((await as(server.url, "parley-1:3000", path)).status).toBe(200);
    }
    expect((await as(server.url, "parley-1:3000", "/signin")).status).toBe(421);
    const made = await as(server.url, `localhost:${port}`, "/setup", {
      method: "POST",
      headers: { Origin: `http://localhost:${port}` },
      body: new URLSearchParams({ username: "admin", password: TEST_PASSWORD }),
    });
    expect(made.status).toBe(303);
  });

  test("with PUBLIC_URL, its name and loopback are served, with a sentence naming it for anything else", async () => {
    expect((await as(published.url, "chat.example.com", "/signin")).status).toBe(200);
    expect((await as(published.url, "CHAT.example.com.", "/signin")).status).toBe(200);
    expect((await as(published.url, `localhost:${published.url.split(":")[2]}`, "/signin")).status).toBe(200);
    for (const host of ["192.168.1.20:3000", "chat.example.com.attacker.example", "attacker.example"]) {
      const res = await as(published.url, host, "/signin");
      expect([host, res.status]).toEqual([host, 421]);
      expect(await res.text()).toBe(
        "This Parley answers at https://chat.example.com (its PUBLIC_URL); open it there, or if people reach it by another address, its operator sets PUBLIC_URL to that.\n",
      );
    }
    // Prometheus scrapes by an instance's own name; with METRICS_TOKEN set, the token guards /metrics.
    const scrape = await as(published.url, "parley-1:3000", "/metrics", {
      headers: { authorization: "Bearer metrics-secret" },
    });
    expect(scrape.status).toBe(200);
    expect((await as(published.url, "10.0.0.7:3000", "/readyz")).status).toBe(200);
  });

  test("HSTS when PUBLIC_URL is https, not otherwise", async () => {
    const hsts = (await as(published.url, "chat.example.com", "/signin")).headers.get("strict-transport-security");
    expect(hsts).toBe("max-age=31536000");
    expect((await fetch(`${server.url}/signin`)).headers.has("strict-transport-security")).toBe(false);
  });

  test("pages, fragments, downloads and errors are never cached; hashed assets keep their year", async () => {
    const admin = await server.signUp("reader");
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: admin.user.id, title: "Private", model: "m" })
      .returning();
    const home = await admin.fetch("/");
    const paths = [
      "/",
      "/account",
      `/chats/${chat!.id}`,
      `/chats/${chat!.id}/messages?before=${crypto.randomUUID()}`,
      `/chats/${chat!.id}/export.md`,
      "/account/export.json",
      "/nothing-here",
      "/signin",
    ];
    for (const path of paths) {
      const res = await admin.fetch(path, { headers: { "hx-request": path.includes("messages") ? "true" : "" } });
      expect([path, res.headers.get("cache-control")]).toEqual([path, "no-store"]);
    }
    const css = /href="(\/assets\/app\.[0-9a-f]+\.css)"/.exec(await home.text())![1]!;
    expect((await fetch(server.url + css)).headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });
});
