import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asc, eq, sql } from "drizzle-orm";
import { chats, messages, users } from "../../src/db/schema.ts";
import { createServer, setChatServers } from "../../src/tools/repo.ts";
import { FAKE_CALLER, FAKE_MODELS, type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { finalAnswerHtml, rebuildAnswer } from "../support/frames.ts";
import { startMcpServer } from "../support/mcp-server.ts";
import { type Parley, runParley, signInAt, startParley, until } from "../support/process.ts";
import { finished, openSocket, type TestSocket } from "../support/ws.ts";

const PASSWORD = "a long enough password";

/**
 * Several server processes on one Postgres, as behind a load balancer: a tab sees the same
 * whichever process it is connected to, live, through Postgres LISTEN/NOTIFY.
 */
describe.if(DRIVERS.includes("postgres"))("live events across instances sharing one Postgres", () => {
  let t: TestDb;
  let fake: FakeUpstream;
  let env: Record<string, string>;
  const running: Parley[] = [];
  let a: Parley;
  let b: Parley;
  let c: Parley;
  let cookie: string;
  beforeAll(async () => {
    t = await freshDatabase("postgres");
    fake = startFakeUpstream({ models: [...FAKE_MODELS, FAKE_CALLER] });
    env = { DATABASE_URL: t.url!, ...fakeEnv(fake) };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORD)).code).toBe(0);
    [a, b, c] = await Promise.all([startParley(env), startParley(env), startParley(env)]);
    running.push(a, b, c);
    cookie = await signInAt(a.url, "ann", PASSWORD);
  });
  afterAll(async () => {
    for (const p of running) if (p.proc.exitCode === null) await p.stop("SIGKILL");
    await fake.stop();
    await t.close();
  });

  /** A chat with one finished exchange, made through `url`. */
  const newChat = async (url: string) => {
    fake.queue({ text: "Hello there." });
    const made = await fetch(`${url}/chats`, {
      method: "POST",
      headers: { Origin: url, cookie },
      body: new URLSearchParams({ content: "first words", model: "fake/fast" }),
      redirect: "manual",
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    await until(
      () => rows(chatId),
      (r) => r[1]?.status === "complete",
      "the first answer",
    );
    return chatId;
  };
  const rows = (chatId: string) =>
    t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id));
  const tab = async (p: Parley, chatId: string, since?: string) => {
    const ws = await openSocket(p.url, `/ws?chat=${chatId}${since ? `&since=${since}` : ""}`, { cookie });
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    return ws;
  };
  const assistantId = (html: string) => /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(html)?.[1];
  /** Numbered words, so any gap or repeat in what a tab shows would be visible. */
  const counted = (n: number) =>
    Array.from({ length: n }, (_, i) => `w${i + 1}${i % 12 === 11 ? "\n\n" : " "}`)
      .join("")
      .trim();

  test("an answer written by one instance streams live to tabs on two others: every word once, in order", async () => {
    const chatId = await newChat(a.url);
    const [onA, onB, onC] = [await tab(a, chatId), await tab(b, chatId), await tab(c, chatId)];
    const text = counted(120);
    fake.queue({ text, tokenDelayMs: 10 });
    onA.send({ action: "send", chat: chatId, content: "count for me" });
    const asked = (m: string) => m.includes("count for me") && m.includes('data-role="user"');
    for (const ws of [onB, onC]) {
      const started = await ws.waitFor(asked);
      const id = assistantId(started)!;
      const done = await ws.waitFor(finished(id), { timeoutMs: 30_000 });
      // The question arrived once; the answer's frames build its final render.
      expect(ws.messages.filter(asked)).toHaveLength(1);
      // The mirror on B shows the answer whole when it starts following it; frames build on that.
      const whole = ws.messages.find(
        (m) => m.includes(`<article id="msg-${id}" hx-swap-oob="true"`) && m.includes('data-status="streaming"'),
      )!;
      expect(whole).toBeDefined();
      const frames = ws.messages.slice(ws.messages.indexOf(whole) + 1, ws.messages.indexOf(done));
      expect(frames.length).toBeGreaterThan(5);
      const rebuilt = rebuildAnswer(id, whole, frames);
      expect(rebuilt.html).toBe(finalAnswerHtml(done));
      expect(rebuilt.html).toContain("w120");
      expect(done).toContain('data-status="complete"');
    }
    // The writing instance's own tab got the same final render.
    const id = assistantId(await onA.waitFor(asked))!;
    expect(finalAnswerHtml(await onA.waitFor(finished(id)))).toBe(finalAnswerHtml(await onB.waitFor(finished(id))));
    await Promise.all([onA.close(), onB.close(), onC.close()]);
  });

  test("events larger than a notification (a long answer's final render) arrive through bus_events; the chat list follows", async () => {
    const chatId = await newChat(a.url);
    const onB = await tab(b, chatId);
    const text = "A long paragraph of plain words that goes on. ".repeat(400).trim();
    const [before] = await t.database.rows<{ n: number }>(sql.raw("select count(*)::int as n from bus_events"));
    fake.queue({ text, tokenSize: 400 });
    const onA = await tab(a, chatId);
    onA.send({ action: "send", chat: chatId, content: "write a lot" });
    const started = await onB.waitFor((m) => m.includes("write a lot") && m.includes('data-role="user"'));
    const done = await onB.waitFor(finished(assistantId(started)!), { timeoutMs: 30_000 });
    expect(Buffer.byteLength(done)).toBeGreaterThan(8000);
    expect(finalAnswerHtml(done)).toBe(`<p>${text}</p>\n`);
    const [after] = await t.database.rows<{ n: number }>(sql.raw("select count(*)::int as n from bus_events"));
    expect(after!.n).toBeGreaterThan(before!.n);
    // B read the chat list again for its tab (A said it changed; the list is B's own render).
    await onB.waitFor((m) => m.includes('id="chat-nav"'), { from: onB.messages.indexOf(started) });
    await Promise.all([onA.close(), onB.close()]);
  });

  test("a tab opened on another instance mid-answer catches up from the saved text, then follows live", async () => {
    const chatId = await newChat(a.url);
    const onA = await tab(a, chatId);
    const text = counted(200);
    fake.queue({ text, tokenDelayMs: 15 });
    onA.send({ action: "send", chat: chatId, content: "count slowly" });
    const id = assistantId(await onA.waitFor((m) => m.includes("count slowly")))!;
    await until(
      () => rows(chatId),
      (r) => (r[3]?.content.length ?? 0) > 40,
      "a progress save",
    );
    // Half-way between saves: B must hold the words that arrive until the next save covers them.
    await Bun.sleep(500);
    const since = (await rows(chatId))[2]!.id;
    const late = await tab(b, chatId, since);
    const snapshot = late.messages.find((m) => m.includes('id="transcript-live" hx-swap-oob="true"'))!;
    expect(snapshot).toContain(`id="msg-${id}" data-role="assistant" data-status="streaming"`);
    const done = await late.waitFor(finished(id), { timeoutMs: 30_000 });
    // B had no tab on the chat, so no mirror: it starts one from the saved text, shows the
    // answer whole as it stands, and sends frames against that.
    const whole = late.messages.find(
      (m) => m.includes(`<article id="msg-${id}" hx-swap-oob="true"`) && m.includes('data-status="streaming"'),
    )!;
    expect(whole).toBeDefined();
    const frames = late.messages.slice(late.messages.indexOf(whole) + 1, late.messages.indexOf(done));
    expect(frames.length).toBeGreaterThan(5);
    expect(rebuildAnswer(id, whole, frames).html).toBe(finalAnswerHtml(done));
    expect(done).toContain("w200");
    await Promise.all([onA.close(), late.close()]);
  });

  test("Stop pressed on a tab of another instance stops the answer where it is written", async () => {
    const chatId = await newChat(a.url);
    const [onA, onB] = [await tab(a, chatId), await tab(b, chatId)];
    const text = counted(400);
    fake.queue({ text, tokenDelayMs: 20 });
    onA.send({ action: "send", chat: chatId, content: "count until stopped" });
    const id = assistantId(await onB.waitFor((m) => m.includes("count until stopped")))!;
    await onB.waitFor((m) => m.includes(`msg-${id}-tail`) && !m.includes("<article") && m.includes("w5"));
    onB.send({ action: "stop", message: id });
    const stopped = await onB.waitFor(finished(id));
    expect(stopped).toContain('data-status="stopped"');
    expect(await onA.waitFor(finished(id))).toContain('data-status="stopped"');
    const saved = (await rows(chatId))[3]!;
    expect(saved.status).toBe("stopped");
    expect(saved.content.length).toBeGreaterThan(0);
    expect(text.startsWith(saved.content)).toBe(true);
    expect(saved.content).not.toContain("w400");
    // Stopping what is not being written anywhere still gets its sentence.
    onB.send({ action: "stop", message: id });
    await onB.waitFor((m) => m.includes("There is no answer being written to stop."));
    await Promise.all([onA.close(), onB.close()]);
  });

  test("a tool call shows on a tab of another instance, and Approve pressed there runs it where the answer is written", async () => {
    const mcp = startMcpServer();
    try {
      const chatId = await newChat(a.url);
      await t.database.db.update(chats).set({ model: "fake/caller" }).where(eq(chats.id, chatId));
      const server = await createServer(t.database.db, {
        name: "Sums",
        url: mcp.url,
        headers: {},
        enabledTools: ["add"],
        requireApproval: true,
      });
      if (server === "taken") throw new Error("taken");
      const [ann] = await t.database.db.select().from(users).where(eq(users.username, "ann"));
      expect(await setChatServers(t.database.db, ann!.id, chatId, [server.id])).toBe(true);
      const [onA, onB] = [await tab(a, chatId), await tab(b, chatId)];
      fake.queue({ toolCalls: [{ name: "Sums_add", arguments: '{"a": 20, "b": 22}' }] });
      onA.send({ action: "send", chat: chatId, content: "add them" });
      const asking = await onB.waitFor((m) => m.includes('data-tool-step="approval"'));
      const [, id, step] = /id="step-([0-9a-f-]{36})-([A-Za-z0-9_-]+)"/.exec(asking)!;
      onB.send({ action: "tool", message: id, step, approve: "yes" });
      const done = await onB.waitFor(finished(id!));
      expect(done).toContain("The tool said: 42");
      expect(mcp.calls).toEqual([{ name: "add", args: { a: 20, b: 22 } }]);
      await Promise.all([onA.close(), onB.close()]);
    } finally {
      await mcp.stop();
    }
  });

  test("deleting a person on one instance stops their answer where another writes it, and closes their tabs there", async () => {
    const added = await fetch(`${a.url}/admin/users`, {
      method: "POST",
      headers: { Origin: a.url, cookie },
      body: new URLSearchParams({ username: "zed", password: PASSWORD }),
      redirect: "manual",
    });
    expect(added.headers.get("location")).toBe("/admin?done=user-added");
    const [zed] = await t.database.db.select().from(users).where(eq(users.username, "zed"));
    const zedCookie = await signInAt(b.url, "zed", PASSWORD);
    const tabOnB = await openSocket(b.url, "/ws", { cookie: zedCookie });
    const closed = new Promise<number>((resolve) => tabOnB.socket.addEventListener("close", (e) => resolve(e.code)));
    // Written by b: a few words, then nothing, the connection held open until stopped.
    fake.queue({ text: "go on ".repeat(100), stallAfterTokens: 3 });
    await fetch(`${b.url}/chats`, {
      method: "POST",
      headers: { Origin: b.url, cookie: zedCookie },
      body: new URLSearchParams({ content: "zed asks" }),
      redirect: "manual",
    });
    const request = (await until(
      async () => fake.requests.findLast((r) => r.body.messages.at(-1)?.content === "zed asks"),
      (r) => (r?.sent ?? "") !== "",
      "zed's answer streaming",
    ))!;

    const del = await fetch(`${a.url}/admin/users/${zed!.id}/delete`, {
      method: "POST",
      headers: { Origin: a.url, cookie },
      redirect: "manual",
    });
    expect(del.headers.get("location")).toBe("/admin?done=user-deleted");
    await request.disconnected;
    expect(await closed).toBe(4001);
  });

  test("when Postgres cuts an instance's listening connection, its tabs reconnect, catch up, and hear the others again", async () => {
    const chatId = await newChat(a.url);
    const [onA0, onB] = [await tab(a, chatId), await tab(b, chatId)];
    const closedWith = (ws: TestSocket) =>
      new Promise<number>((resolve) => ws.socket.addEventListener("close", (e) => resolve(e.code)));
    const closed = [closedWith(onA0), closedWith(onB)];
    // Every instance's listener: each reconnects and tells its tabs to resynchronise.
    const [killed] = await t.database.rows<{ n: number }>(
      sql.raw(
        "select count(pg_terminate_backend(pid))::int as n from pg_stat_activity where application_name = 'parley-bus-listen' and datname = current_database()",
      ),
    );
    expect(killed!.n).toBe(3);
    // 1012: htmx-ext-ws reconnects by itself after it. B sends it once it listens again.
    expect(await Promise.all(closed)).toEqual([1012, 1012]);
    // Meanwhile a message is sent through A; B's tab, reconnecting, reads it from the database.
    fake.queue({ text: "said while B was deaf" });
    const onA = await tab(a, chatId);
    onA.send({ action: "send", chat: chatId, content: "are you there" });
    await until(
      () => rows(chatId),
      (r) => r[3]?.status === "complete",
      "the answer",
    );
    const since = (await rows(chatId))[1]!.id;
    const back = await tab(b, chatId, since);
    const snapshot = back.messages.find((m) => m.includes('id="transcript-live" hx-swap-oob="true"'))!;
    expect(snapshot).toContain("are you there");
    expect(snapshot).toContain("said while B was deaf");
    // And B hears A live again.
    fake.queue({ text: "heard live" });
    onA.send({ action: "send", chat: chatId, content: "and now" });
    const started = await back.waitFor((m) => m.includes("and now") && m.includes('data-role="user"'));
    expect(await back.waitFor(finished(assistantId(started)!))).toContain("heard live");
    await Promise.all([onA.close(), back.close()]);
  });
});
