import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { END_UNSAVED } from "../../src/chat/errors.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { fakeEnv } from "../fake-upstream.ts";
import { DRIVERS } from "../support/db.ts";
import { outageFixture } from "../support/faults.ts";
import { rebuildAnswer } from "../support/frames.ts";
import { runParley, signInAt, startParley, until } from "../support/process.ts";
import { TEST_PASSWORD } from "../support/server.ts";
import { finished, openSocket, type TestSocket } from "../support/ws.ts";

/** The answer's text as the tab shows it: its rebuilt HTML without tags. */
const shownText = (ws: TestSocket, id: string, base: string, from: number) => {
  const frames = ws.messages.slice(from).filter((m) => m.includes(`msg-${id}-`) && !m.includes("<article"));
  return rebuildAnswer(id, base, frames)
    .html.replace(/<[^>]+>/g, "")
    .trim();
};

/**
 * Nothing a person saw is lost when the database goes away as an answer ends: the end is kept in
 * memory and written again until it is stored. The fault is real: the answer's database refuses
 * connections and every open one is terminated (what a Postgres restart or failover does to a
 * pool), then it accepts them again.
 */
describe.if(DRIVERS.includes("postgres"))("an answer whose end cannot be written at once [postgres]", () => {
  const outage = outageFixture();

  test("the end is retried until the database is back; the answer keeps every word the tab showed, and the chat says one thing meanwhile", async () => {
    const { t, fake, server, cut, reopen } = outage;
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Outage", model: "fake/fast" })
      .returning();
    const words = Array.from({ length: 80 }, (_, i) => `w${i + 1}`);
    fake.queue({ text: words.join(" "), tokenSize: 4, tokenDelayMs: 25 });
    const ws = await server.socket(`/ws?chat=${chat!.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chat!.id, content: "count slowly" });
    const started = await ws.waitFor((m) => m.includes('data-role="assistant"'), { from });
    const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    // A few words in, before the first progress save: all the rest exists only in memory.
    await ws.waitFor((m) => m.includes(`msg-${id}-tail`) && m.includes("w5"), { from });
    await cut();
    const told = await ws.waitFor((m) => m.includes(END_UNSAVED), { from, timeoutMs: 30_000 });
    expect(told).toContain('id="composer-status"');
    const seen = shownText(ws, id, started, from);
    expect(seen.endsWith("w80")).toBe(true);

    // While the end waits, every action on the chat gives the same sentence.
    const replies = ws.messages.length;
    ws.send({ action: "stop", message: id });
    ws.send({ action: "send", chat: chat!.id, content: "are you there?" });
    ws.send({ action: "retry", message: id });
    const said = async (n: number) => {
      await ws.waitFor(() => ws.messages.slice(replies).filter((m) => m.includes(END_UNSAVED)).length >= n, {
        from: replies,
      });
    };
    await said(3);
    await reopen();

    // Hearing other instances again closes the tabs' sockets (1012); they reconnect and read the chat afresh.
    const [answer] = await until(
      () => t.database.db.select().from(messages).where(eq(messages.id, id)),
      ([m]) => m?.status !== "streaming",
      "the answer's end saved",
    );
    expect(answer).toMatchObject({ status: "complete", content: words.join(" ") });
    expect(answer!.content).toBe(seen);
    const again = await server.socket(`/ws?chat=${chat!.id}`);
    const snapshot = await again.waitFor((m) => m.includes('id="transcript-live"'));
    expect(
      finished(id)(snapshot.replace(`<article id="msg-${id}"`, `<article id="msg-${id}" hx-swap-oob="true"`)),
    ).toBe(true);
    expect(snapshot).toContain("w79 w80");
    // The chat takes messages again.
    fake.queue({ text: "yes" });
    again.send({ action: "send", chat: chat!.id, content: "are you there?" });
    await again.waitFor((m) => m.includes("are you there?") && m.includes('data-role="user"'));
    await again.close();
    await ws.close();
  }, 90_000);
});

/**
 * A `parley serve` process alone on a database that goes away as it shuts down. Alone: beside the
 * suite above's server, a new instance closes the tabs it opened before the two met (the other
 * may have dropped events meant for them while it was alone, src/bus/notify.ts), and which comes
 * first is up to the machine's load.
 */
describe.if(DRIVERS.includes("postgres"))("shutting down while the database is away [postgres]", () => {
  const outage = outageFixture({ server: false });

  /** `parley serve` on the test database, with a slow answer streaming to a tab; resolves once words are shown. */
  const slowAnswerInProcess = async (shutdownTimeout: number) => {
    const { t, fake } = outage;
    const env = { DATABASE_URL: t.url!, SHUTDOWN_TIMEOUT_MS: String(shutdownTimeout), ...fakeEnv(fake) };
    await runParley(["user", "create", "ann"], env, undefined, TEST_PASSWORD);
    const parley = await startParley(env);
    const cookie = await signInAt(parley.url, "ann", TEST_PASSWORD);
    const made = await fetch(`${parley.url}/chats`, {
      method: "POST",
      headers: { Origin: parley.url, cookie },
      body: new URLSearchParams({ content: "count slowly", model: "fake/fast" }),
      redirect: "manual",
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const ws = await openSocket(parley.url, `/ws?chat=${chatId}`, { cookie });
    const snapshot = await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(snapshot)![1]!;
    const from = ws.messages.length;
    await ws.waitFor((m) => m.includes(`msg-${id}-tail`) && !m.includes("<article"), { from });
    const answer = async () => (await t.database.db.select().from(messages).where(eq(messages.id, id)))[0]!;
    return { parley, ws, id, snapshot, from, answer };
  };

  test("SIGTERM while the database is away: shutdown keeps trying, and saves the answer whole if it comes back in time", async () => {
    const { fake, cut, reopen } = outage;
    fake.queue({ text: Array.from({ length: 400 }, (_, i) => `v${i + 1}`).join(" "), tokenDelayMs: 20 });
    const { parley, ws, id, snapshot, from, answer } = await slowAnswerInProcess(20_000);
    await cut();
    const exited = parley.stop("SIGTERM");
    // The tab has had the last words it will get once the upstream is stopped.
    await Bun.sleep(1500);
    const seen = shownText(ws, id, snapshot, from);
    await reopen();
    expect(await exited).toBe(0);
    const saved = await answer();
    expect(saved.status).toBe("interrupted");
    expect(seen.length).toBeGreaterThan(0);
    // The page shows no trailing space: the stop may land just after one.
    expect(saved.content.trimEnd()).toBe(seen);
    expect(parley.logs.some((l) => l.event === "saved the end of an answer" && l.messageId === id)).toBe(true);
    await ws.close();
  }, 60_000);

  test("SIGTERM while the database stays away: the process says which answers it could not save and exits 1", async () => {
    const { fake, cut, reopen } = outage;
    fake.queue({ text: "slow ".repeat(400), tokenDelayMs: 20 });
    const { parley, ws, id } = await slowAnswerInProcess(2000);
    await cut();
    try {
      expect(await parley.stop("SIGTERM")).toBe(1);
    } finally {
      await reopen();
    }
    const said = parley.logs.find((l) => l.level === "error" && String(l.event).startsWith("shutdown timeout reached"));
    expect(said?.messageIds).toEqual([id]);
    await ws.close();
  }, 60_000);
});
