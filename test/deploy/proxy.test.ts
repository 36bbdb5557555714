import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { asc, eq } from "drizzle-orm";
import { chats, messages, users } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { type Parley, runParley, startParley } from "../support/process.ts";
import { finished, openSocket } from "../support/ws.ts";

const CADDYFILE = resolve(import.meta.dir, "../../deploy/Caddyfile");
const PASSWORD = "a long enough password";

type LogLine = Record<string, unknown>;

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = probe;
  probe.stop(true);
  return port;
}

async function until<T>(read: () => T | Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await Bun.sleep(25);
  }
  throw new Error(`${what} never happened`);
}

/**
 * The shipped deploy/Caddyfile, run by Debian's caddy, in front of two real Parley processes on
 * one Postgres. The instances listen on ::1 only and the test reaches Caddy on 127.0.0.1, so an
 * address Parley logs as 127.0.0.1 can only have come from the proxy's X-Forwarded-For.
 */
describe.if(DRIVERS.includes("postgres"))("two instances behind the shipped Caddyfile", () => {
  let t: TestDb;
  let fake: FakeUpstream;
  let instances: Parley[] = [];
  let caddy: Subprocess<"ignore", "pipe", "pipe"> | undefined;
  let home: string;
  let httpUrl: string;
  let httpsUrl: string;
  let ca: string;

  const lines = (event: string) => instances.flatMap((p) => p.logs).filter((l) => l.event === event);
  /**
   * Waits for `count` lines of `event` that were not in `seen` (and match `where`), and returns
   * them. A line is written as its request ends and read from a pipe: one of a request made before
   * `seen` was taken (a /metrics read) can still arrive after.
   */
  const newLines = (seen: Set<LogLine>, event: string, count: number, where: (l: LogLine) => boolean = () => true) =>
    until(
      () => lines(event).filter((l) => !seen.has(l) && where(l)),
      (fresh) => fresh.length >= count,
      `${count} new "${event}" log lines`,
    );
  const signIn = (base: string, headers: Record<string, string> = {}) =>
    fetch(`${base}/signin`, {
      method: "POST",
      headers: { Origin: base, ...headers },
      body: new URLSearchParams({ username: "ann", password: PASSWORD }),
      redirect: "manual",
      tls: { ca },
    });
  const signinPage = (l: LogLine) => l.path === "/signin" && l.method === "GET";
  const openSockets = async (p: Parley) => {
    const text = await (await fetch(`${p.url}/metrics`)).text();
    return Number(/^parley_open_sockets (\d+)/m.exec(text)?.[1]);
  };

  beforeAll(async () => {
    const caddyBin = Bun.which("caddy");
    if (!caddyBin) throw new Error("No caddy on PATH: install Debian's caddy package (apt-get install caddy).");
    t = await freshDatabase("postgres");
    fake = startFakeUpstream();
    httpUrl = `http://127.0.0.1:${freePort()}`;
    httpsUrl = `https://127.0.0.1:${freePort()}`;
    // PUBLIC_URL is the http address: a Secure cookie over the https one can only come from the
    // proxy's X-Forwarded-Proto.
    const env = { DATABASE_URL: t.url!, HOST: "::1", TRUST_PROXY: "true", PUBLIC_URL: httpUrl, ...fakeEnv(fake) };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORD)).code).toBe(0);
    instances = await Promise.all([startParley(env), startParley(env)]);

    home = mkdtempSync(join(tmpdir(), "parley-caddy-"));
    caddy = Bun.spawn([caddyBin, "run", "--config", CADDYFILE, "--adapter", "caddyfile"], {
      env: {
        PATH: process.env.PATH ?? "",
        // Caddy keeps its state (the local CA below) under these; none of it may land in $HOME.
        HOME: home,
        XDG_DATA_HOME: join(home, "data"),
        XDG_CONFIG_HOME: join(home, "config"),
        PARLEY_SITE: `${httpUrl}, ${httpsUrl}`,
        PARLEY_UPSTREAMS: instances.map((p) => new URL(p.url).host).join(" "),
        // The https site gets a certificate from Caddy's own CA, which must not be added to this
        // machine's trust store; no redirect listener on port 80; no admin endpoint on 2019.
        CADDY_GLOBAL_OPTIONS: "admin off\nskip_install_trust\nauto_https disable_redirects",
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const caddyLog = new Response(caddy.stderr).text();
    const rootCert = join(home, "data/caddy/pki/authorities/local/root.crt");
    const ready = async () => {
      if (caddy?.exitCode !== null) throw new Error(`caddy exited (${caddy?.exitCode}): ${await caddyLog}`);
      try {
        ca = readFileSync(rootCert, "utf8");
        const [plain, tls] = await Promise.all([
          fetch(`${httpUrl}/readyz`),
          fetch(`${httpsUrl}/readyz`, { tls: { ca } }),
        ]);
        return plain.status === 200 && tls.status === 200;
      } catch {
        return false;
      }
    };
    await until(ready, Boolean, "the proxy answering /readyz over http and https");
  });
  afterAll(async () => {
    caddy?.kill("SIGTERM");
    await caddy?.exited;
    for (const p of instances) if (p.proc.exitCode === null) await p.stop("SIGKILL");
    await fake?.stop();
    await t?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  test("over plain http the cookie is not Secure, even when the client claims https, and Parley logs the client's address", async () => {
    const seen = new Set(lines("signed in"));
    const res = await signIn(httpUrl, { "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9" });
    expect(res.status).toBe(303);
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toStartWith("parley_session=");
    // The proxy sets X-Forwarded-Proto from its own connection, not from what the client sent.
    expect(cookie).not.toContain("Secure");
    const [line] = await newLines(seen, "signed in", 1);
    // Neither the proxy's address (::1, what the instance's socket sees) nor the one claimed.
    expect(line!.address).toBe("127.0.0.1");
  });

  test("over https the proxy tells Parley so, and the session cookie is Secure", async () => {
    const res = await signIn(httpsUrl);
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toContain("; Secure");
  });

  test("requests are spread over both instances", async () => {
    const seen = new Set(lines("request"));
    for (let i = 0; i < 30; i++) expect((await fetch(`${httpUrl}/signin`)).status).toBe(200);
    const served = await newLines(seen, "request", 30, signinPage);
    expect(served.every((l) => l.status === 200)).toBe(true);
    for (const p of instances) expect(served.filter((l) => p.logs.includes(l)).length).toBeGreaterThan(0);
  });

  test("the chat socket opens through the proxy, gets the chat list, and an answer streams back over it", async () => {
    const cookie = (await signIn(httpUrl)).headers.get("set-cookie")!.split(";")[0]!;
    const [ann] = await t.database.db.select().from(users).where(eq(users.username, "ann"));
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: ann!.id, title: "Through the proxy", model: "fake/fast" })
      .returning();
    const ws = await openSocket(httpUrl, `/ws?chat=${chat!.id}`, { cookie });
    expect(await ws.waitFor((m) => m.includes('id="chat-nav"'))).toContain("Through the proxy");
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const text = "every word of this answer crossed the proxy one small piece at a time. ".repeat(4).trim();
    fake.queue({ text, tokenSize: 8, tokenDelayMs: 15 });
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chat!.id, content: "stream it", HEADERS: { "HX-Request": "true" } });
    const started = await ws.waitFor((m) => m.includes('data-role="user"') && m.includes("stream it"), { from });
    const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    const done = await ws.waitFor(finished(id), { from });
    expect(done).toContain(text);
    // Streamed, not held back by the proxy: the answer came in pieces before its final form.
    const pieces = ws.messages
      .slice(from)
      .filter((m) => m.includes(`msg-${id}-tail`) && !m.includes(`<article id="msg-${id}"`));
    expect(pieces.length).toBeGreaterThanOrEqual(3);
    await ws.close();
  });

  test("an open socket counts as load: while a tab is open on one instance, pages and the next tab go to the other", async () => {
    const cookie = (await signIn(httpUrl)).headers.get("set-cookie")!.split(";")[0]!;
    // Closed sockets of the tests above may still be closing on their instance.
    await until(
      () => Promise.all(instances.map(openSockets)),
      (n) => n[0]! + n[1]! === 0,
      "no open socket",
    );
    const tab = await openSocket(httpUrl, "/ws", { cookie });
    await tab.waitFor((m) => m.includes('id="chat-nav"'));
    const other = instances[(await Promise.all(instances.map(openSockets))).indexOf(0)]!;
    const seen = new Set(lines("request"));
    for (let i = 0; i < 10; i++) expect((await fetch(`${httpUrl}/signin`)).status).toBe(200);
    const opened = [tab];
    try {
      expect((await newLines(seen, "request", 10, signinPage)).every((l) => other.logs.includes(l))).toBe(true);
      const second = await openSocket(httpUrl, "/ws", { cookie });
      opened.push(second);
      await second.waitFor((m) => m.includes('id="chat-nav"'));
      expect(await Promise.all(instances.map(openSockets))).toEqual([1, 1]);
    } finally {
      // Open past a failure, they would fail the next test too.
      await Promise.all(opened.map((ws) => ws.close()));
    }
  });

  test("with one instance stopped (SIGTERM), the proxy serves everything from the other, and a socket reopens there", async () => {
    const cookie = (await signIn(httpUrl)).headers.get("set-cookie")!.split(";")[0]!;
    // The chat of the test above, with its question and answer saved.
    const [chat] = await t.database.db.select().from(chats).where(eq(chats.title, "Through the proxy"));
    const first = await openSocket(httpUrl, `/ws?chat=${chat!.id}`, { cookie });
    await first.waitFor((m) => m.includes('id="transcript-live"'));
    // The previous test's sockets may still be closing on their instance.
    const counts = await until(
      () => Promise.all(instances.map(openSockets)),
      (n) => n[0]! + n[1]! === 1,
      "one open socket in all",
    );
    const holder = counts.indexOf(1);
    const [stopped, survivor] = holder === 0 ? [instances[0]!, instances[1]!] : [instances[1]!, instances[0]!];
    const closed = new Promise<void>((done) => first.socket.addEventListener("close", () => done(), { once: true }));
    expect(await stopped.stop("SIGTERM")).toBe(0);
    await closed;

    const seen = new Set(lines("request"));
    for (let i = 0; i < 20; i++) expect((await fetch(`${httpUrl}/signin`)).status).toBe(200);
    const served = await newLines(seen, "request", 20, signinPage);
    expect(served.every((l) => survivor.logs.includes(l))).toBe(true);

    // What a tab does after the drop: reconnect through the proxy, and catch up from Postgres.
    const again = await openSocket(httpUrl, `/ws?chat=${chat!.id}`, { cookie });
    const transcript = await again.waitFor((m) => m.includes('id="transcript-live"'));
    const saved = await t.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatId, chat!.id))
      .orderBy(asc(messages.id));
    expect(saved.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(transcript).toContain(`id="msg-${saved[1]!.id}"`);
    expect(await openSockets(survivor)).toBe(1);
    await again.close();
  });
});
