import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
import { chats, messages, users } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished, type TestSocket } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** A seeded generator: a failure names its seed and replays exactly. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const text = (n: number) => {
    const alphabet = [
      "a",
      "Z",
      "0",
      " ",
      "\n",
      '"',
      "\\",
      "<",
      ">",
      "&",
      "'",
      "%",
      "\u0000",
      "\u202e",
      "é",
      "𝕏",
      "🙂",
      "\ud800",
    ];
    let out = "";
    for (let i = 0; i < n; i++) out += pick(alphabet);
    return out;
  };
  return { next, int, pick, text };
}

const SEED = 20261125;
const UNKNOWN = "01900000-0000-7000-8000-000000000000";

eachDriver("hostile frames and bodies", (t) => {
  let server: TestServer;
  let reference: Awaited<ReturnType<typeof snapshot>>;
  let targetId: string;
  let userMessageId: string;
  let answerId: string;

  const snapshot = async (chatId: string) => ({
    chat: (await t.database.db.select().from(chats).where(eq(chats.id, chatId)))[0],
    messages: await t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id)),
  });
  let referenceId: string;

  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    // Two chats with a finished exchange each: one the fuzz aims at, one it must never touch.
    const ids: string[] = [];
    for (const content of ["Reference chat, keep me", "Target chat"]) {
      const res = await server.fetch("/chats", { method: "POST", body: new URLSearchParams({ content }) });
      ids.push(/\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location")!)![1]!);
    }
    [referenceId, targetId] = ids as [string, string];
    for (let i = 0; i < 400; i++) {
      const rows = await t.database.db.select().from(chats);
      if (rows.every((c) => c.title.startsWith("About"))) break; // answered and named
      await Bun.sleep(25);
    }
    reference = await snapshot(referenceId);
    const target = await snapshot(targetId);
    userMessageId = target.messages[0]!.id;
    answerId = target.messages[1]!.id;
  });
  afterAll(() => server.stop());

  /** Frames each of which must be refused: never a valid chat with valid content, never a valid retry. */
  function hostileFrames(seed: number, count: number): (string | Uint8Array<ArrayBuffer>)[] {
    const r = random(seed);
    const ids = [UNKNOWN, "not-a-uuid", "", "../../etc/passwd", "' OR 1=1 --", "0".repeat(5000), userMessageId];
    const wrong = () =>
      r.pick<unknown>([null, 0, -1, 1e308, true, [], [targetId], {}, { $ne: null }, r.text(r.int(20)), { length: 1 }]);
    const badContent = () =>
      r.pick<unknown>([undefined, "", "   \n\t ", 42, null, [], ["hi"], { text: "hi" }, "x".repeat(32_001)]);
    const makers: (() => string | Uint8Array<ArrayBuffer>)[] = [
      () => r.text(r.int(200)), // not JSON at all
      () => JSON.stringify({ action: "send", chat: targetId, content: "hi" }).slice(0, 1 + r.int(40)), // truncated
      () => r.pick(["", " ", "null", "true", "1", '"send"', "[]", "[1,2]", "{", "}", "{}", "nul"]),
      () => JSON.stringify({ action: wrong() }),
      () => JSON.stringify({ action: r.pick(["SEND", "send ", "delete", "__proto__", "constructor", "toString"]) }),
      () => '{"__proto__":{"action":"send"},"chat":"x"}',
      () => JSON.stringify({ action: "send", chat: r.pick([...ids, wrong()]), content: r.text(1 + r.int(50)) }),
      () => JSON.stringify({ action: "send", chat: targetId, content: badContent() }),
      () => JSON.stringify({ action: r.pick(["stop", "retry"]), message: r.pick([...ids, wrong()]) }),
      () => JSON.stringify({ action: "stop", message: answerId }), // finished: nothing to stop
      () => `${"[".repeat(3000)}${"]".repeat(3000)}`,
      () => `${'{"a":'.repeat(2000)}1${"}".repeat(2000)}`,
      () => crypto.getRandomValues(new Uint8Array(1 + r.int(300))), // binary
      () =>
        JSON.stringify({ action: "send", chat: targetId, content: badContent(), HEADERS: { "HX-Request": "true" } }),
    ];
    return Array.from({ length: count }, () => r.pick(makers)());
  }

  const errorsIn = (ws: TestSocket) => ws.messages.filter((m) => /id="composer-status"[^>]*data-kind="error"/.test(m));

  test("malformed, truncated, wrongly typed and binary WebSocket frames each get an error; the socket stays open", async () => {
    const ws = await server.socket(`/ws?chat=${targetId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const frames = hostileFrames(SEED, 250);
    for (const [i, frame] of frames.entries()) {
      const before = errorsIn(ws).length;
      ws.socket.send(frame);
      try {
        await ws.waitFor(() => errorsIn(ws).length > before, { timeoutMs: 5000 });
      } catch {
        throw new Error(`frame ${i} (seed ${SEED}) got no error: ${String(frame).slice(0, 200)}`);
      }
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
    }
    // Every answer is one of our sentences, never a stack or an internal message.
    const sentences = new Set(errorsIn(ws).map((m) => />([^<]*)<\/p>/.exec(m)?.[1]));
    for (const s of sentences) expect(s).toMatch(/^[A-Z][^\n]{5,200}[.!]$/);
    expect([...sentences].join(" ")).not.toContain("Something went wrong on our side");
    await ws.close();
  });

  test("a frame over the size limit closes that socket (1009); the server and everyone else carry on", async () => {
    const other = await server.socket(`/ws?chat=${targetId}`);
    const big = await server.socket(`/ws?chat=${targetId}`);
    const code = new Promise<number>((resolve) => big.socket.addEventListener("close", (e) => resolve(e.code)));
    big.socket.send(JSON.stringify({ action: "send", chat: targetId, content: "x".repeat(300 * 1024) }));
    expect(await code).toBe(1009);
    expect(other.socket.readyState).toBe(WebSocket.OPEN);
    await other.close();
  });

  test("hostile HTTP bodies, paths and headers get 4xx answers without stacks, never a 500", async () => {
    const r = random(SEED + 1);
    const paths = [
      "/chats",
      `/chats/${targetId}/title`,
      `/chats/${targetId}/model`,
      `/chats/${r.pick(["not-a-uuid", "%00", "..%2F..%2Fetc", "x".repeat(3000), "%E2%80%AE", UNKNOWN])}/title`,
      "/signin",
      "/setup",
      "/signup",
      "/account/password",
      "/admin/users",
      "/admin/signup",
      `/admin/users/${r.pick(["nope", UNKNOWN, "%FF"])}/password`,
      `/admin/users/${r.pick(["nope", UNKNOWN])}/delete`,
    ];
    const bodies: (() => [string | undefined, BodyInit])[] = [
      () => ["application/x-www-form-urlencoded", r.text(r.int(300))],
      () => ["application/x-www-form-urlencoded", "content=%zz&title=%&model=%E0%A4%A"],
      () => ["application/x-www-form-urlencoded", "content=a&content=b&title=x&title=y&username=a&username=b"],
      () => ["application/json", JSON.stringify(r.pick([[], 1, null, "x", { content: [], title: {}, model: 5 }]))],
      () => ["application/json", `{"content": "unterminated`],
      () => ["application/json", `${"[".repeat(5000)}${"]".repeat(5000)}`],
      () => ["multipart/form-data; boundary=xyz", '--xyz\r\nContent-Disposition: form-data; name="content"\r\n\r\nhi'],
      () => ["multipart/form-data", "no boundary at all"],
      () => ["text/plain", r.text(100)],
      () => [undefined, crypto.getRandomValues(new Uint8Array(200))],
      () => ["application/octet-stream", crypto.getRandomValues(new Uint8Array(500))],
    ];
    const answers = new Map<number, number>();
    for (let i = 0; i < 160; i++) {
      const path = r.pick(paths);
      const [type, body] = r.pick(bodies)();
      const headers: Record<string, string> = {};
      if (type) headers["content-type"] = type;
      if (r.next() < 0.1) headers.accept = "text/html";
      const res = await server.fetch(path, {
        method: r.pick(["POST", "POST", "DELETE", "PUT", "PATCH"]),
        body,
        headers,
      });
      const text = await res.text();
      if (res.status >= 500 || /\bat .+:\d+:\d+|node_modules|\.tsx?:\d/.test(text)) {
        throw new Error(`request ${i} (seed ${SEED + 1}) ${path} ${type}: ${res.status} ${text.slice(0, 300)}`);
      }
      answers.set(res.status, (answers.get(res.status) ?? 0) + 1);
    }
    // The table of answers shows the requests were refused for their content, not all turned away at one door.
    expect(answers.size).toBeGreaterThanOrEqual(3);

    const huge = await server.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "x".repeat(2 * 1024 * 1024) }),
    });
    expect(huge.status).toBe(413);
    for (const path of [
      `/chats/${"%".repeat(10)}`,
      "/chats/%00",
      `/chats/${"é".repeat(2000)}`,
      "/chats/../../etc/passwd",
    ]) {
      const res = await server.fetch(path);
      expect([path, res.status < 500]).toEqual([path, true]);
    }
  });

  test("afterwards the data is intact and the server works as before", async () => {
    expect(await snapshot(referenceId)).toEqual(reference);
    expect(await t.database.db.select().from(users)).toHaveLength(
      1 + (await t.database.db.select().from(users)).length - 1,
    );
    expect((await server.fetch("/readyz")).status).toBe(200);
    expect((await server.fetch(`/chats/${referenceId}`)).status).toBe(200);
    const ws = await server.socket(`/ws?chat=${referenceId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "send", chat: referenceId, content: "Still there?" });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    expect(await ws.waitFor(finished(id), { from })).toContain('data-status="complete"');
    await ws.close();
  });
});
