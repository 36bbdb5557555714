import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
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

const articleIds = (html: string, role: "user" | "assistant") =>
  [...html.matchAll(new RegExp(`<article id="msg-([0-9a-f-]+)" data-role="${role}"`, "g"))].map((m) => m[1]!);
const deleted = (html: string) =>
  [...html.matchAll(/<article id="msg-([0-9a-f-]+)" hx-swap-oob="delete">/g)].map((m) => m[1]!);
const switcher = (html: string) => /<span data-siblings[^>]*>[\s\S]*?<span>(\d+ \/ \d+)<\/span>/.exec(html)?.[1];

eachDriver("edits and branches", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const rows = async (chatId: string) =>
    t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id));
  const shown = async (chatId: string) => (await rows(chatId)).filter((m) => m.active).map((m) => m.content);
  const lastRequest = () => fake.requests.filter((r) => r.body.stream).at(-1)!.body.messages;

  /** A chat with one finished exchange per question, through the socket as a tab sends them. */
  async function chatWith(...questions: string[]) {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Branches", model: "fake/fast" })
      .returning();
    const ws = await server.socket(`/ws?chat=${chat!.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    for (const question of questions) await exchange(ws, { action: "send", chat: chat!.id, content: question });
    return { chat: chat!, ws };
  }

  /** Sends a frame that starts an answer; resolves with the fragment that started it, once it finished. */
  async function exchange(ws: TestSocket, frame: Record<string, unknown>) {
    const from = ws.messages.length;
    ws.send(frame);
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    await ws.waitFor(finished(articleIds(started, "assistant").at(-1)!), { from });
    return started;
  }

  test("editing a sent message starts a new branch from it; the old one is kept, and the answer follows the new words", async () => {
    const { chat, ws } = await chatWith("Name a colour", "And a fruit?");
    const before = await rows(chat.id);
    const edited = before[2]!; // "And a fruit?"
    const started = await exchange(ws, { action: "edit", message: edited.id, content: "And a vegetable?" });
    // Every tab drops the edited message and what followed, and shows the new one with its place.
    expect(deleted(started)).toEqual([before[2]!.id, before[3]!.id]);
    expect(started).toContain("And a vegetable?");
    expect(switcher(started)).toBe("2 / 2");
    // Upstream got the branch: the first exchange, then the new words, not the old ones.
    const sent = lastRequest().map((m) => m.content);
    expect(sent).toContain("Name a colour");
    expect(sent.at(-1)).toBe("And a vegetable?");
    expect(sent.join("\n")).not.toContain("And a fruit?");
    const after = await rows(chat.id);
    expect(after).toHaveLength(6);
    expect(after.filter((m) => !m.active).map((m) => m.id)).toEqual([before[2]!.id, before[3]!.id]);
    const [question, answer] = after.slice(4);
    expect(question!.parentId).toBe(edited.parentId);
    expect(answer!.parentId).toBe(question!.id);
    expect(answer!.content).toContain("And a vegetable?");
    // A reload shows the new branch with its switch.
    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(page).toContain("And a vegetable?");
    expect(page).not.toContain("And a fruit?");
    expect(switcher(page)).toBe("2 / 2");
    await ws.close();
  });

  test("switching shows the other branch in every tab, and what is sent next follows it", async () => {
    const { chat, ws } = await chatWith("Pick a number", "Double it");
    const original = await rows(chat.id);
    await exchange(ws, { action: "edit", message: original[2]!.id, content: "Halve it" });
    const other = await server.socket(`/ws?chat=${chat.id}`);
    await other.waitFor((m) => m.includes('id="transcript-live"'));
    const from = other.messages.length;
    ws.send({ action: "switch", message: original[2]!.id });
    const switched = await other.waitFor((m) => m.includes('hx-swap-oob="delete"'), { from });
    const halves = (await rows(chat.id)).slice(4).map((m) => m.id);
    expect(deleted(switched)).toEqual(halves);
    expect(articleIds(switched, "user")).toEqual([original[2]!.id]);
    expect(articleIds(switched, "assistant")).toEqual([original[3]!.id]);
    expect(switcher(switched)).toBe("1 / 2");
    expect(await shown(chat.id)).toEqual(original.map((m) => m.content));

    await exchange(ws, { action: "send", chat: chat.id, content: "Now add one" });
    const sent = lastRequest().map((m) => m.content);
    expect(sent).toContain("Double it");
    expect(sent.join("\n")).not.toContain("Halve it");
    const all = await rows(chat.id);
    expect(all.at(-2)!.parentId).toBe(original[3]!.id);
    // Switching back to the edit's branch shows it down to its end again.
    const back = ws.messages.length;
    ws.send({ action: "switch", message: halves[0] });
    await ws.waitFor((m) => deleted(m).includes(original[2]!.id), { from: back });
    expect(await shown(chat.id)).toEqual([
      "Pick a number",
      original[1]!.content,
      "Halve it",
      all.find((m) => m.id === halves[1])!.content,
    ]);
    await Promise.all([ws.close(), other.close()]);
  });

  test("regenerating a finished answer keeps the earlier one as a sibling", async () => {
    const { chat, ws } = await chatWith("Tell me a joke");
    const [question, first] = await rows(chat.id);
    fake.queue({ text: "A different joke." });
    const started = await exchange(ws, { action: "retry", message: first!.id });
    expect(deleted(started)).toEqual([first!.id]);
    expect(switcher(started)).toBe("2 / 2");
    const after = await rows(chat.id);
    expect(after).toHaveLength(3);
    expect(after[1]).toMatchObject({ id: first!.id, active: false, content: first!.content });
    expect(after[2]).toMatchObject({ parentId: question!.id, active: true, content: "A different joke." });
    expect(lastRequest().map((m) => m.content)).toEqual(["Tell me a joke"]);
    await ws.close();
  });

  test("Retry on a failed answer with messages after it writes it again as a new branch; what followed stays, one switch away", async () => {
    fake.queue({ status: 500, errorMessage: "Upstream hiccup" });
    const { chat, ws } = await chatWith("Name a colour", "And a fruit?");
    const before = await rows(chat.id);
    expect(before.map((m) => m.status)).toEqual(["complete", "error", "complete", "complete"]);
    fake.queue({ text: "Blue." });
    const started = await exchange(ws, { action: "retry", message: before[1]!.id });
    // The failed answer and what followed leave the page; the new answer takes its place.
    expect(deleted(started)).toEqual([before[1]!.id, before[2]!.id, before[3]!.id]);
    expect(switcher(started)).toBe("2 / 2");
    expect(await shown(chat.id)).toEqual(["Name a colour", "Blue."]);
    const after = await rows(chat.id);
    expect(after.at(-1)).toMatchObject({ parentId: before[0]!.id, active: true, status: "complete" });
    expect(after.filter((m) => !m.active).map((m) => m.id)).toEqual(before.slice(1).map((m) => m.id));
    expect(lastRequest().map((m) => m.content)).toEqual(["Name a colour"]);
    await ws.close();
  });

  test("edits and switches are refused with a sentence while an answer streams, on someone else's messages, and when empty", async () => {
    const { chat, ws } = await chatWith("First");
    const [question] = await rows(chat.id);
    const refusal = async (frame: Record<string, unknown>, who = ws) => {
      const from = who.messages.length;
      who.send(frame);
      const reply = await who.waitFor((m) => m.includes('id="composer-status"') && m.includes('data-kind="error"'), {
        from,
      });
      return /data-kind="error"[^>]*>([^<]*)</.exec(reply)?.[1];
    };
    expect(await refusal({ action: "edit", message: question!.id, content: "  " })).toBe("Write a message first.");

    fake.queue({ text: "slow ".repeat(80), tokenDelayMs: 20 });
    const sending = ws.messages.length;
    ws.send({ action: "send", chat: chat.id, content: "Second" });
    await ws.waitFor((m) => m.includes('data-status="streaming"'), { from: sending });
    expect(await refusal({ action: "edit", message: question!.id, content: "Changed" })).toContain(
      "An answer is still being written",
    );

    const bob = await server.signUp("bobby");
    const theirs = await bob.socket("/ws");
    expect(await refusal({ action: "edit", message: question!.id, content: "Mine now" }, theirs)).toBe(
      "There is no such message.",
    );
    expect(await refusal({ action: "switch", message: question!.id }, theirs)).toBe("There is no such message.");
    expect(await refusal({ action: "switch", message: "not-an-id" })).toBe("There is no such message.");
    expect((await rows(chat.id)).map((m) => m.content)).not.toContain("Changed");
    expect((await rows(chat.id)).map((m) => m.content)).not.toContain("Mine now");
    await Promise.all([ws.close(), theirs.close()]);
  });
});
