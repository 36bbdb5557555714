import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { inArray } from "drizzle-orm";
import { type Finish, finishMessages, renewLeases } from "../../src/chat/repos/answers.ts";
import { insertExchange } from "../../src/chat/repos/exchange.ts";
import { chats, messages, users } from "../../src/db/schema.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";

const ended: Finish = {
  status: "complete",
  at: 0,
  content: "Done.",
  html: "<p>Done.</p>",
  reasoningAt: 0,
  reasoning: "",
  thinkingMs: null,
  error: null,
  finishReason: "stop",
  promptTokens: 1,
  completionTokens: 1,
  reasoningTokens: null,
  cachedTokens: null,
  cost: null,
  sources: null,
};

/**
 * A lease renewal covers every answer a process writes, while batches of ends lock some of them:
 * on Postgres (PGlite runs one statement at a time) the two must never wait for each other.
 */
describe.if(DRIVERS.includes("postgres"))("lease renewal beside the answers' ends [postgres]", () => {
  let t: TestDb;
  beforeAll(async () => {
    t = await freshDatabase("postgres");
  });
  afterAll(() => t.close());

  test("an answer whose end is being written is skipped, not waited for; the others are renewed", async () => {
    const db = t.database.db;
    const [person] = await db.insert(users).values({ username: "lease-ann", passwordHash: null }).returning();
    const answers: string[] = [];
    for (const title of ["First", "Second"]) {
      const [chat] = await db.insert(chats).values({ userId: person!.id, title, model: "fake/fast" }).returning();
      answers.push((await insertExchange(db, person!.id, chat!.id, `${title} question`))!.assistant.id);
    }
    const [first, second] = answers as [string, string];
    // A batch of ends that has locked the second answer and will lock the first next: a renewal
    // that waited for the second while holding the first would close the circle.
    await db.transaction(async (tx) => {
      await finishMessages(tx, [{ id: second, ...ended }]);
      const renewal = renewLeases(db, [first, second]);
      const waited = await Promise.race([renewal.then(() => false), Bun.sleep(5000).then(() => true)]);
      expect(waited).toBe(false);
      await finishMessages(tx, [{ id: first, ...ended }]);
    });
    const rows = await db
      .select({ id: messages.id, status: messages.status, leaseUntil: messages.leaseUntil })
      .from(messages)
      .where(inArray(messages.id, answers));
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(first)).toMatchObject({ status: "complete", leaseUntil: expect.any(Date) });
    expect(byId.get(second)).toMatchObject({ status: "complete", leaseUntil: null });
  });
});
