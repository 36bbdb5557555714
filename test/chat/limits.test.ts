import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { TOO_MANY_SOCKETS } from "../../src/chat/socket.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished, type TestSocket } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const closeOf = (ws: TestSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => {
    ws.socket.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }), { once: true });
  });
const errorOf = (html: string) => /<p id="composer-status"[^>]*data-kind="error"[^>]*>([^<]*)</.exec(html)?.[1];

eachDriver("per-person limits", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(
      t,
      fakeEnv(fake, { SENDS_PER_MINUTE: "4", MAX_CONCURRENT_ANSWERS: "2", SOCKETS_PER_PERSON: "3" }),
    );
  });
  afterAll(() => server.stop());

  const newChat = async (userId: string) => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId, title: "Limits", model: "fake/fast" })
      .returning();
    return chat!;
  };
  const count = async (chatId: string) =>
    (await t.database.rows<{ n: number }>(sql`select count(*)::int as n from messages where chat_id = ${chatId}`))[0]!
      .n;

  test("answers being written at once are capped per person: the next send is refused and nothing is saved", async () => {
    const person = await server.signUp("busy");
    const [a, b, c] = [await newChat(person.user.id), await newChat(person.user.id), await newChat(person.user.id)];
    const ws = await person.socket("/ws");
    // Two answers that stall after a word, so both are still being written when the third send comes.
    fake.queue({ text: "slow ".repeat(60), stallAfterTokens: 1 });
    fake.queue({ text: "slow ".repeat(60), stallAfterTokens: 1 });
    ws.send({ action: "send", chat: a.id, content: "one" });
    ws.send({ action: "send", chat: b.id, content: "two" });
    for (const chat of [a, b]) {
      for (let i = 0; i < 200 && (await count(chat.id)) < 2; i++) await Bun.sleep(10);
    }
    const from = ws.messages.length;
    ws.send({ action: "send", chat: c.id, content: "three" });
    const refused = errorOf(await ws.waitFor((m) => !!errorOf(m), { from }));
    expect(refused).toBe("You have 2 answers being written already; wait for one to finish, or stop one.");
    expect(await count(c.id)).toBe(0);

    // Another person is not held back by this one.
    const other = await server.signUp("idle");
    const otherChat = await newChat(other.user.id);
    const otherWs = await other.socket(`/ws?chat=${otherChat.id}`);
    await otherWs.waitFor((m) => m.includes('id="transcript-live"'));
    otherWs.send({ action: "send", chat: otherChat.id, content: "mine" });
    const started = await otherWs.waitFor((m) => m.includes('data-status="streaming"'));
    const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    await otherWs.waitFor(finished(id));

    // Once one answer ends (here: stopped), the person may send again.
    const [stalled] = await t.database.db.select().from(messages).where(eq(messages.chatId, a.id)).orderBy(messages.id);
    const answerA = (await t.database.db.select().from(messages).where(eq(messages.chatId, a.id))).find(
      (m) => m.role === "assistant",
    )!;
    expect(stalled).toBeDefined();
    // Its end is announced once the server has let the answer go (the row says "stopped" a moment
    // before: a send in between is still refused, which a clean-clone run under load caught).
    const onA = await person.socket(`/ws?chat=${a.id}`);
    await onA.waitFor((m) => m.includes('id="transcript-live"'));
    ws.send({ action: "stop", message: answerA.id });
    await onA.waitFor(finished(answerA.id));
    const onC = await person.socket(`/ws?chat=${c.id}`);
    await onC.waitFor((m) => m.includes('id="transcript-live"'));
    ws.send({ action: "send", chat: c.id, content: "three, again" });
    await onC.waitFor((m) => m.includes('data-role="user"') && m.includes("three, again"));
    expect(await count(c.id)).toBe(2);
    await Promise.all([ws.close(), otherWs.close(), onA.close(), onC.close()]);
  });

  test("sends per minute are capped per person, with when to try again; the new-chat form too", async () => {
    const person = await server.signUp("chatty");
    const chat = await newChat(person.user.id);
    const ws = await person.socket(`/ws?chat=${chat.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    for (let i = 1; i <= 4; i++) {
      const from = ws.messages.length;
      ws.send({ action: "send", chat: chat.id, content: `message ${i}` });
      const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
      await ws.waitFor(finished(/<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!), { from });
    }
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chat.id, content: "message 5" });
    expect(errorOf(await ws.waitFor((m) => !!errorOf(m), { from }))).toMatch(
      /^You have sent 4 messages in the last minute; try again in \d+ seconds?\.$/,
    );
    expect(await count(chat.id)).toBe(8);
    const before = (await t.database.db.select().from(chats).where(eq(chats.userId, person.user.id))).length;
    const page = await person.fetch("/chats", { method: "POST", body: new URLSearchParams({ content: "new chat" }) });
    expect(page.status).toBe(400);
    expect(await page.text()).toMatch(/You have sent 4 messages in the last minute; try again in \d+ seconds?\./);
    expect((await t.database.db.select().from(chats).where(eq(chats.userId, person.user.id))).length).toBe(before);
    await ws.close();
  });

  test("open sockets are capped per person, across sessions: one more is closed with 4029 and a sentence; the others go on", async () => {
    const person = await server.signUp("tabby");
    const laptop = await server.signIn("tabby");
    const chat = await newChat(person.user.id);
    const tabs = [await person.socket(`/ws?chat=${chat.id}`), await person.socket("/ws"), await laptop.socket("/ws")];
    const refused = await laptop.socket(`/ws?chat=${chat.id}`);
    // Closed before it hears anything (an accepted socket is sent the chat list at once).
    const outcome = await Promise.race([closeOf(refused), refused.waitFor(() => true)]);
    expect(outcome).toEqual({ code: 4029, reason: TOO_MANY_SOCKETS });
    expect(refused.messages).toEqual([]);
    // The tabs already open still hear and act; someone else is not counted against this person.
    for (const tab of tabs) expect(tab.socket.readyState).toBe(WebSocket.OPEN);
    const from = tabs[0]!.messages.length;
    tabs[0]!.send({ action: "send", chat: chat.id, content: "still here" });
    const started = await tabs[0]!.waitFor((m) => m.includes('data-status="streaming"'), { from });
    await tabs[0]!.waitFor(finished(/<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!), {
      from,
    });
    const other = await server.signUp("someone-else");
    const theirs = await other.socket("/ws");
    await theirs.waitFor((m) => m.includes('id="chat-nav"'));
    // A tab closed frees its place.
    await tabs[1]!.close();
    const again = await laptop.socket("/ws");
    await again.waitFor((m) => m.includes('id="chat-nav"'));
    expect(again.socket.readyState).toBe(WebSocket.OPEN);
    for (const ws of [tabs[0]!, tabs[2]!, theirs, again]) await ws.close();
  });
});
