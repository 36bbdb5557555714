import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { END_UNSAVED } from "../../src/chat/errors.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { chats, messages } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { pgliteTemplate } from "../support/db.ts";
import { rebuildAnswer } from "../support/frames.ts";
import { parleyCommand, until } from "../support/process.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { canMountSmallDisk, mountSmallDisk, type SmallDisk } from "../support/small-disk.ts";

/** Text that does not compress: its HTML needs as much new room on disk as its length. */
const noise = (length: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(length))).toString("base64");

describe.if(canMountSmallDisk())("the embedded database's disk fills while answers end [pglite]", () => {
  let disk: SmallDisk;
  let database: Database;
  let fake: FakeUpstream;
  let server: TestServer;
  let stopped = false;
  beforeAll(async () => {
    disk = mountSmallDisk(64);
    database = await openDatabase({
      url: undefined,
      dataDir: join(disk.path, "data"),
      loadDataDir: await pgliteTemplate(),
    });
    fake = startFakeUpstream();
    server = await startTestServer(
      { driver: "pglite", database, url: undefined, close: async () => {} },
      fakeEnv(fake),
    );
  });
  afterAll(async () => {
    disk?.free();
    if (!stopped) await server?.stop();
    fake?.stop();
    await database?.close();
    disk?.unmount();
  });
  test("the ends wait in memory, /readyz says the disk is full, and once there is room each answer is stored as its tab showed it", async () => {
    /** A chat whose answer streams to a tab of its own; resolves once its first words are shown. */
    const answering = async (n: number) => {
      const [chat] = await database.db
        .insert(chats)
        .values({ userId: server.user.id, title: `Full ${n}`, model: "fake/fast" })
        .returning();
      const ws = await server.socket(`/ws?chat=${chat!.id}`);
      await ws.waitFor((m) => m.includes('id="transcript-live"'));
      const from = ws.messages.length;
      ws.send({ action: "send", chat: chat!.id, content: `fill it up ${n}` });
      const started = await ws.waitFor((m) => m.includes('data-role="assistant"'), { from });
      const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
      await ws.waitFor((m) => m.includes(`msg-${id}-tail`) && m.includes(`a${n}w3`), { from });
      return { n, ws, id, started, from };
    };
    // Words that do not compress: the end must need new room (it no longer writes the search
    // index, which needed some for any text).
    const text = [1, 2].map((n) =>
      Array.from({ length: 150 }, (_, i) => `a${n}w${i + 1}${noise(40).replace(/[^a-zA-Z0-9]/g, "")}`).join(" "),
    );
    const words = (n: number) => text[n - 1]!;
    fake.queue(...[1, 2].map((n) => ({ text: words(n), tokenSize: 60, tokenDelayMs: 15 })));
    const answers = await Promise.all([1, 2].map(answering));
    disk.fill();

    const seen = new Map<string, string>();
    for (const { n, ws, id, started, from } of answers) {
      await ws.waitFor((m) => m.includes(END_UNSAVED), { from, timeoutMs: 30_000 });
      const frames = ws.messages.slice(from).filter((m) => m.includes(`msg-${id}-`) && !m.includes("<article"));
      const shown = rebuildAnswer(id, started, frames)
        .html.replace(/<[^>]+>/g, "")
        .trim();
      expect(shown).toBe(words(n));
      seen.set(id, shown);
    }
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    // A full disk named first, whether or not a small write (a lease renewal) fitted since.
    expect((await ready.json()).error).toBe(
      "The database cannot save: the disk is full (No space left on device); 2 answers' ends are not saved yet.",
    );

    // A long first message (text that does not compress needs new room) is refused with the sentence, not a 500.
    const made = await server.fetch("/chats", {
      method: "POST",
      headers: { accept: "text/html" },
      body: new URLSearchParams({ content: noise(23_000), model: "fake/fast" }),
    });
    expect(made.status).toBe(503);
    expect(await made.text()).toContain("The database is unavailable; Parley retries on its own.");

    disk.free();
    for (const [id, shown] of seen) {
      const [answer] = await until(
        () => database.db.select().from(messages).where(eq(messages.id, id)),
        ([m]) => m?.status !== "streaming",
        "the answer's end saved",
      );
      expect(answer).toMatchObject({ status: "complete", content: shown });
    }
    await until(
      async () => (await fetch(`${server.url}/readyz`)).status,
      (status) => status === 200,
      "ready again",
    );
    for (const { ws } of answers) await ws.close();
  }, 60_000);

  test("starting on a full disk says so in one sentence, and no message text", async () => {
    const [chat] = await database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Left", model: "fake/fast" })
      .returning();
    // An answer a killed process left mid-stream: the next start must end it, which writes.
    const secret = "quokka-harmonica-5521";
    await database.db
      .insert(messages)
      .values({ chatId: chat!.id, role: "assistant", content: `${secret} ${noise(200_000)}`, status: "streaming" });
    await server.stop();
    stopped = true;
    await database.close();
    // Room for the lock file, not for the database's writes.
    disk.fill(8192);
    const proc = Bun.spawn(parleyCommand(["serve"]), {
      env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", DATA_DIR: join(disk.path, "data"), PORT: "0" },
      stdout: "pipe",
      stderr: "pipe",
    });
    // Were it to start after all, it would serve until stopped: stopped, it fails the test below.
    const timer = setTimeout(() => proc.kill(), 30_000);
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    clearTimeout(timer);
    disk.free();
    expect(code).toBe(1);
    expect(stderr).toBe(
      "parley: could not start: the database's disk is full (No space left on device); free some space, then start Parley again.\n",
    );
    expect(stdout + stderr).not.toContain(secret);
  }, 60_000);
});
