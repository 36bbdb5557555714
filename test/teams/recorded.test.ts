import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { usage, users } from "../../src/db/schema.ts";
import { recordAlongside, settle } from "../../src/teams/spending.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { type SwitchableDatabase, switchableDatabase } from "../support/faults.ts";

/**
 * The usage row of a person without limits is written while their request goes (recordAlongside),
 * not before it. When Postgres is away at that moment, the row is written when the answer's end
 * asks for it, once Postgres is back; the cost then settles on it.
 */
describe.if(DRIVERS.includes("postgres"))("a usage record written alongside the request [postgres]", () => {
  let t: TestDb;
  let db: SwitchableDatabase;
  beforeAll(async () => {
    t = await freshDatabase("postgres");
    db = switchableDatabase(t.url!);
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });

  test("its first write fails while Postgres is away; the answer's end writes it, then settles it", async () => {
    const [person] = await t.database.db.insert(users).values({ username: "no-limit", passwordHash: null }).returning();
    await db.cut();
    const record = recordAlongside(t.database.db, {
      userId: person!.id,
      kind: "answer",
      model: "fake/fast",
      estimate: 0.02,
    });
    // The first write has failed (it never waits for Postgres to come back on its own).
    await Bun.sleep(1500);
    await db.reopen();
    expect(await t.database.db.select().from(usage).where(eq(usage.id, record.usageId))).toEqual([]);
    await record.recorded();
    await settle(t.database.db, record.usageId, { promptTokens: 10, completionTokens: 20, cost: 0.01 });
    const [row] = await t.database.db.select().from(usage).where(eq(usage.id, record.usageId));
    expect([row!.userId, row!.estimate, row!.cost, row!.completionTokens]).toEqual([person!.id, 0.02, 0.01, 20]);
  });
});
