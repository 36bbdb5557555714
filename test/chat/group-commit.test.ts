import { beforeAll, expect, test } from "bun:test";
import { asc, eq, inArray } from "drizzle-orm";
import { createExchangeWriter } from "../../src/chat/group-commit.ts";
import { insertExchange, insertExchanges } from "../../src/chat/repos/exchange.ts";
import { chats, messages, users } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";

eachDriver("group commit of sends", (t) => {
  let ann: string;
  let bob: string;
  beforeAll(async () => {
    const made = await t.database.db
      .insert(users)
      .values([
        { username: "ann-batch", passwordHash: null },
        { username: "bob-batch", passwordHash: null },
      ])
      .returning();
    ann = made[0]!.id;
    bob = made[1]!.id;
  });

  const chat = async (userId: string, model = "fake/fast") =>
    (await t.database.db.insert(chats).values({ userId, title: "Batch", model }).returning())[0]!;
  const stored = (chatIds: string[]) =>
    t.database.db.select().from(messages).where(inArray(messages.chatId, chatIds)).orderBy(asc(messages.id));

  test("many sends in one statement: each gets what a send alone would, and the refused ones store nothing", async () => {
    const talked = await chat(ann, "fake/reader");
    const first = await insertExchange(t.database.db, ann, talked.id, "The first question");
    // Its answer finished: the next send follows it.
    await t.database.db
      .update(messages)
      .set({ status: "complete", content: "The first answer" })
      .where(eq(messages.id, first!.assistant.id));
    const fresh = await chat(ann);
    const busy = await chat(ann);
    await insertExchange(t.database.db, ann, busy.id, "Still being answered");
    const bobs = await chat(bob);

    const saved = await insertExchanges(t.database.db, [
      { userId: ann, chatId: talked.id, content: "The second question" },
      { userId: ann, chatId: bobs.id, content: "Not my chat" },
      { userId: ann, chatId: busy.id, content: "While it answers" },
      { userId: ann, chatId: fresh.id, content: "A new chat's first words" },
      { userId: bob, chatId: bobs.id, content: "Bob's own" },
    ]);
    expect(saved.map((s) => s?.user.content)).toEqual([
      "The second question",
      undefined,
      undefined,
      "A new chat's first words",
      "Bob's own",
    ]);

    const [second, , , opening, bobsOwn] = saved;
    // The history is the chat as it was before: the first exchange, then the new question's answer follows it.
    expect(second!.history.map((m) => [m.role, m.content, m.status])).toEqual([
      ["user", "The first question", "complete"],
      ["assistant", "The first answer", "complete"],
    ]);
    expect(second!.user.parentId).toBe(first!.assistant.id);
    expect(second!.assistant.parentId).toBe(second!.user.id);
    expect(second!.assistant).toMatchObject({
      role: "assistant",
      status: "streaming",
      content: "",
      model: "fake/reader",
      active: true,
    });
    expect(second!.user.createdAt).toBeInstanceOf(Date);
    expect(second!.assistant.id > second!.user.id).toBe(true);
    expect(opening!.history).toEqual([]);
    expect(opening!.user.parentId).toBeNull();
    expect(bobsOwn!.user.chatId).toBe(bobs.id);

    // Stored exactly as returned; nothing for the refused sends.
    const rows = await stored([talked.id, fresh.id, busy.id, bobs.id]);
    for (const s of [second!, opening!, bobsOwn!]) {
      expect(rows.find((r) => r.id === s.user.id)).toEqual(s.user);
      expect(rows.find((r) => r.id === s.assistant.id)).toEqual(s.assistant);
    }
    expect(rows.filter((r) => r.chatId === busy.id).map((r) => r.content)).toEqual(["Still being answered", ""]);
    expect(rows.filter((r) => r.chatId === bobs.id).map((r) => r.content)).toEqual(["Bob's own", ""]);
    // The chats saved moved to the top of their lists.
    const [moved] = await t.database.db.select().from(chats).where(eq(chats.id, fresh.id));
    expect(moved!.updatedAt.getTime()).toBeGreaterThan(fresh.updatedAt.getTime());
  });

  test("sends made together are written together, each resolved with its own exchange", async () => {
    const write = createExchangeWriter(t.database.db);
    const many = await Promise.all(Array.from({ length: 30 }, () => chat(ann)));
    const saved = await Promise.all(many.map((c, i) => write(ann, c.id, `Question ${i}`)));
    expect(saved.map((s) => [s!.user.chatId, s!.user.content])).toEqual(many.map((c, i) => [c.id, `Question ${i}`]));
    // One statement: every message has the same time, the statement's.
    const rows = await stored(many.map((c) => c.id));
    expect(rows.length).toBe(60);
    expect(new Set(rows.map((r) => r.createdAt.getTime())).size).toBe(1);
    // Two sends to one chat in one batch (another instance's lock does not reach here): the first only.
    const twice = await chat(ann);
    const both = await insertExchanges(t.database.db, [
      { userId: ann, chatId: twice.id, content: "Once" },
      { userId: ann, chatId: twice.id, content: "Twice" },
    ]);
    expect(both.map((s) => s?.user.content)).toEqual(["Once", undefined]);
    expect((await stored([twice.id])).map((r) => r.content)).toEqual(["Once", ""]);
    // A second send to a chat being answered, in the same tick as others, is refused alone.
    const again = await Promise.all([write(ann, many[0]!.id, "Too soon"), write(ann, (await chat(ann)).id, "Fine")]);
    expect(again.map((s) => s?.user.content)).toEqual([undefined, "Fine"]);
  });
});
