import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
import { messages } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { type Parley, runParley, signInAt, startParley, until } from "../support/process.ts";
import { finished, openSocket } from "../support/ws.ts";

const PASSWORD = "a long enough password";

/** Two processes on one Postgres: what one leaves behind, the other must notice. */
describe.if(DRIVERS.includes("postgres"))("answers across processes sharing one Postgres", () => {
  let t: TestDb;
  let fake: FakeUpstream;
  let env: Record<string, string>;
  const running: Parley[] = [];
  beforeAll(async () => {
    t = await freshDatabase("postgres");
    fake = startFakeUpstream();
    env = { DATABASE_URL: t.url!, ...fakeEnv(fake) };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORD)).code).toBe(0);
  });
  afterAll(async () => {
    for (const p of running) if (p.proc.exitCode === null) await p.stop("SIGKILL");
    fake.stop();
    await t.close();
  });

  const start = async () => {
    const parley = await startParley(env);
    running.push(parley);
    return parley;
  };
  /** Starts a chat on `url` whose answer streams slowly; resolves with the ids once words are saved. */
  const slowAnswer = async (url: string, text: string) => {
    fake.queue({ text, tokenDelayMs: 40 });
    const cookie = await signInAt(url, "ann", PASSWORD);
    const made = await fetch(`${url}/chats`, {
      method: "POST",
      headers: { Origin: url, cookie },
      body: new URLSearchParams({ content: "take your time", model: "fake/fast" }),
      redirect: "manual",
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const answer = async () =>
      (await t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id)))[1];
    for (let i = 0; i < 400 && !(await answer())?.content; i++) await Bun.sleep(25);
    return { chatId, answerId: (await answer())!.id, answer, cookie };
  };

  test("a process starting beside another leaves the other's answers alone", async () => {
    const a = await start();
    const text = "steady words ".repeat(50).trim();
    const { answer } = await slowAnswer(a.url, text);
    const b = await start();
    // B's start ended nothing A is writing (it used to end every answer marked as being written).
    expect((await answer())!.status).toBe("streaming");
    const done = await until(answer, (m) => m?.status !== "streaming", "the answer's end");
    expect(done).toMatchObject({ status: "complete", content: text });
    await Promise.all([a.stop(), b.stop()]);
  });

  test("a rolling restart (SIGTERM one process, then the other) loses no message and no saved text", async () => {
    const a = await start();
    const b = await start();
    const first = await slowAnswer(a.url, "first answer words ".repeat(100).trim());
    expect(await a.stop()).toBe(0);
    // A's answer is ended at once as interrupted with what it had, not left for the lease.
    const ended = await first.answer();
    expect(ended).toMatchObject({ status: "interrupted" });
    expect(ended!.content.length).toBeGreaterThan(0);
    const a2 = await start();
    const second = await slowAnswer(b.url, "second answer words ".repeat(100).trim());
    expect(await b.stop()).toBe(0);
    expect(await second.answer()).toMatchObject({ status: "interrupted" });
    // Both chats, each question and its saved answer, are there for the restarted process.
    for (const { chatId, answerId } of [first, second]) {
      const page = await (await fetch(`${a2.url}/chats/${chatId}`, { headers: { cookie: first.cookie } })).text();
      expect(page).toContain("take your time");
      expect(page).toContain(`id="msg-${answerId}"`);
      expect(page).toContain('data-status="interrupted"');
    }
    await a2.stop();
  });

  test("when the writer is killed, another process ends its answer as interrupted with the saved text, and it can be retried there", async () => {
    const a = await start();
    const b = await start();
    const text = "long winded ".repeat(200).trim();
    const { chatId, answerId, answer, cookie } = await slowAnswer(a.url, text);
    const watching = await openSocket(b.url, `/ws?chat=${chatId}`, { cookie });
    await watching.waitFor((m) => m.includes('id="transcript-live"'));
    await until(answer, (m) => (m?.content.length ?? 0) > 20, "a progress save");
    // The tab on B follows A's answer live until A dies.
    await watching.waitFor((m) => m.includes(`msg-${answerId}-tail`) && !m.includes("<article"));
    a.proc.kill("SIGKILL");
    await a.proc.exited;
    const ended = await until(answer, (m) => m?.status !== "streaming", "the dead writer's answer ending");
    expect(ended!.status).toBe("interrupted");
    expect(ended!.content.length).toBeGreaterThan(0);
    expect(text.startsWith(ended!.content)).toBe(true);
    // The tab on the surviving process is told, and Retry works there.
    const told = await watching.waitFor(finished(answerId), { timeoutMs: 30_000 });
    expect(told).toContain('data-status="interrupted"');
    fake.queue({ text: "written again" });
    watching.send({ action: "retry", message: answerId });
    await until(answer, (m) => m?.status === "complete", "the retried answer");
    expect((await answer())!.content).toBe("written again");
    await watching.close();
    await b.stop();
  });
});
