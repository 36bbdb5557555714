import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createLogger } from "../../src/log.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { runParley } from "../support/process.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const KEY = "sk-or-v1-0123456789abcdef-never-shown";

let fake: FakeUpstream;
/** An upstream (or a proxy before it) that answers every request by quoting the key it was sent. */
let echo: ReturnType<typeof Bun.serve>;
beforeAll(() => {
  fake = startFakeUpstream();
  echo = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      Response.json(
        { error: { code: 401, message: `Invalid credentials: ${req.headers.get("authorization")}` } },
        { status: 401 },
      ),
  });
});
afterAll(() => {
  fake.stop();
  echo.stop(true);
});

eachDriver("the API key", (t) => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", format: "json", write: (line) => lines.push(line) });
  let server: TestServer;
  let viaEcho: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake, { OPENROUTER_API_KEY: KEY }), { log });
    viaEcho = await startTestServer(
      t,
      { OPENROUTER_BASE_URL: `http://127.0.0.1:${echo.port}`, OPENROUTER_API_KEY: KEY },
      { log },
    );
  });
  afterAll(async () => {
    await server.stop();
    await viaEcho.stop();
  });

  /** Starts a chat, waits for its answer to end, and returns what a page and a (re)connecting socket show of it. */
  async function exchange(on: TestServer, content: string): Promise<{ chatId: string; text: string }> {
    const made = await on.fetch("/chats", { method: "POST", body: new URLSearchParams({ content }) });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    for (let i = 0; i < 400; i++) {
      const rows = await t.database.rows<{ status: string }>(
        sql`select status from messages where chat_id = ${chatId} and role = 'assistant'`,
      );
      if (rows[0] && rows[0].status !== "streaming") break;
      await Bun.sleep(25);
    }
    const ws = await on.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    await ws.close();
    const page = await (await on.fetch(`/chats/${chatId}`)).text();
    return { chatId, text: [page, ...ws.messages].join("\n") };
  }

  test("upstream errors that quote the key reach no page, socket or log line; the person still learns what failed", async () => {
    const seen: string[] = [];
    // 1. An upstream that echoes the key on every request (the model list and the answer).
    seen.push(await (await viaEcho.fetch("/")).text());
    const rejected = await exchange(viaEcho, "Hello?");
    expect(rejected.text).toContain("The API key was rejected: check OPENROUTER_API_KEY.");
    seen.push(rejected.text);

    // 2. A 400 whose reason quotes the key, and a provider failing mid-answer with it.
    fake.queue({ status: 400, errorMessage: `Bad request for key ${KEY}` });
    const refused = await exchange(server, "First");
    expect(refused.text).toContain("The model refused the request: Bad request for key [API key]");
    fake.queue({ errorAfterTokens: 3, errorMessage: `Upstream auth ${KEY} expired` });
    const broken = await exchange(server, "Second");
    expect(broken.text).toContain("failed mid-answer: Upstream auth [API key] expired");
    seen.push(refused.text, broken.text);

    // The echo did carry the key (so this test can fail), and it went nowhere but upstream.
    expect(lines.join("\n")).toContain("[API key]");
    for (const [i, text] of [...seen, ...lines].entries()) {
      if (text.includes(KEY) || text.includes("0123456789abcdef"))
        throw new Error(`the key leaked in item ${i}: ${text.slice(0, 300)}`);
    }
    expect(fake.requests.at(-1)!.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  test("--help shows that the key is set, never the key", async () => {
    const help = await runParley(["--help"], { OPENROUTER_API_KEY: KEY, DATABASE_URL: "postgres://u:hunter2@db/x" });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/OPENROUTER_API_KEY [\s\S]*?\(secret\)\n\s+default: unset \[set\]/);
    expect(help.stdout + help.stderr).not.toContain(KEY);
    expect(help.stdout + help.stderr).not.toContain("hunter2");
  });
});
