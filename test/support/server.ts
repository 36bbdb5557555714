import { afterAll, beforeAll } from "bun:test";
import { createApp } from "../../src/app.ts";
import { SESSION_COOKIE } from "../../src/auth/cookie.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import type { User } from "../../src/db/schema.ts";
import type { GenerationTiming } from "../../src/llm/generations.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import { freshDatabase, type TestDb } from "./db.ts";
import { openSocket, type TestSocket } from "./ws.ts";

export const TEST_PASSWORD = "a long test password";

/** A signed-in person: their account and the Cookie header their browser would send. */
export type Person = {
  user: User;
  cookie: string;
  /** fetch as this person: their cookie, and this site's Origin on anything but a GET (`origin: ""` sends none). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** A WebSocket as this person's tab opens it. */
  socket(path: string, opts?: { origin?: string }): Promise<TestSocket>;
};

export type BareServer = {
  url: string;
  origin: string;
  config: Config;
  app: ReturnType<typeof createApp>;
  /** A new account (an admin if asked) with a session of its own. */
  signUp(username: string, opts?: { admin?: boolean }): Promise<Person>;
  /** A new session for an existing account. */
  signIn(username: string): Promise<Person>;
  stop(): Promise<void>;
};

/** A test server with one person signed in: its first account, an admin. */
export type TestServer = Person & BareServer;

/** The real app on a real port (127.0.0.1, chosen by the OS), on the given test database, with no one signed in. */
export function startBareServer(
  t: TestDb,
  env: Record<string, string> = {},
  opts: { log?: Logger; timing?: GenerationTiming; port?: number } = {},
): BareServer {
  const config = loadConfig({ LOG_FORMAT: "json", HOST: "127.0.0.1", ...env });
  const app = createApp({ config, database: t.database, log: opts.log ?? silentLogger, timing: opts.timing }).listen({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
  });
  const url = `http://127.0.0.1:${app.server!.port}`;
  const { auth } = app.decorator;

  const person = (user: User, token: string): Person => {
    const cookie = `${SESSION_COOKIE}=${token}`;
    return {
      user,
      cookie,
      fetch(path, init = {}) {
        const headers = new Headers(init.headers);
        if (!headers.has("cookie")) headers.set("cookie", cookie);
        // An empty Origin asks for none at all (to test what a request without one gets).
        if (headers.get("origin") === "") headers.delete("origin");
        else if ((init.method ?? "GET") !== "GET" && !headers.has("origin")) headers.set("origin", url);
        return fetch(url + path, { redirect: "manual", ...init, headers });
      },
      socket: (path, socketOpts = {}) => openSocket(url, path, { origin: socketOpts.origin ?? url, cookie }),
    };
  };
  const signIn = async (username: string) => {
    const { token, user } = await auth.signIn(username, TEST_PASSWORD, "127.0.0.1", "bun-test");
    return person(user, token);
  };
  return {
    url,
    origin: url,
    config,
    app,
    signIn,
    async signUp(username, { admin = false } = {}) {
      await auth.createUser(username, TEST_PASSWORD, admin);
      return signIn(username);
    },
    async stop() {
      await app.decorator.shutdown();
      await app.stop(true);
    },
  };
}

/** startBareServer, with its first account (an admin, "tester" unless named) signed in. */
export async function startTestServer(
  t: TestDb,
  env: Record<string, string> = {},
  opts: { log?: Logger; timing?: GenerationTiming; port?: number; username?: string } = {},
): Promise<TestServer> {
  const server = startBareServer(t, env, opts);
  const username = opts.username ?? "tester";
  const first = (await server.app.decorator.auth.needsSetup())
    ? await server.signUp(username, { admin: true })
    : await server.signIn(username);
  return { ...first, ...server };
}

/**
 * Two instances of the app on one fresh Postgres database, each with its own connection pool, as
 * two processes behind a load balancer would be (live events between them go over Postgres
 * notifications): `a` with its first account signed in, `b` bare. Declares the hooks that start
 * and stop them; the returned object is filled in before the tests run. `env` is asked for then,
 * once the suite's own hooks have started what it names (a fake upstream).
 */
export function twoInstances(env: () => Record<string, string>): TwoInstances {
  const pair = { t: {} as TestDb } as TwoInstances;
  beforeAll(async () => {
    Object.assign(pair.t, await freshDatabase("postgres"));
    pair.second = await openDatabase({ url: pair.t.url!, dataDir: "", poolSize: 5 });
    pair.a = await startTestServer(pair.t, env());
    pair.b = startBareServer({ ...pair.t, database: pair.second }, env());
  });
  afterAll(async () => {
    await pair.b.stop();
    await pair.a.stop();
    await pair.second.close();
    await pair.t.close();
  });
  return pair;
}

/** `t` is the database `a` uses; `second` is `b`'s own pool on it. */
type TwoInstances = { t: TestDb; a: TestServer; b: BareServer; second: Database };
