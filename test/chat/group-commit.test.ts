import { beforeAll, expect, test } from "bun:test";
import { asc, eq, inArray } from "drizzle-orm";
import { createExchangeWriter } from "../../src/chat/group-commit.ts";
import { type Finish, finishMessage, finishMessages, saveProgress } from "../../src/chat/repos/answers.ts";
import { siblingsOf, siblingsOfMessages } from "../../src/chat/repos/branches.ts";
import { chatList, chatLists, chatsWithTotals, chatWithTotals } from "../../src/chat/repos/chats.ts";
import { insertExchange, insertExchanges, ownChatsForSend } from "../../src/chat/repos/exchange.ts";
import {
  chats,
  groupMembers,
  groups,
  type Message,
  messages,
  projects,
  siteSettings,
  usage,
  users,
} from "../../src/db/schema.ts";
import { projectGroups, projectGroupsOf } from "../../src/projects/repo.ts";
import { allowances, allowancesAfterAnswer, SITE_LIMITS_SETTING } from "../../src/teams/limits-repo.ts";
import { settle } from "../../src/teams/spending.ts";
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

eachDriver("answers that end together", (t) => {
  let cy: string;
  beforeAll(async () => {
    cy = (await t.database.db.insert(users).values({ username: "cy-ends", passwordHash: null }).returning())[0]!.id;
  });

  /** Three chats, each with a question and its answer being written, one with a progress save. */
  async function answersBeingWritten() {
    const ids: { chatId: string; answerId: string }[] = [];
    for (const title of ["One", "Two", "Three"]) {
      const [made] = await t.database.db.insert(chats).values({ userId: cy, title, model: "fake/fast" }).returning();
      const exchange = await insertExchange(t.database.db, cy, made!.id, `Question ${title}`);
      ids.push({ chatId: made!.id, answerId: exchange!.assistant.id });
    }
    await saveProgress(t.database.db, [
      { id: ids[1]!.answerId, at: 0, content: "Saved before ", reasoningAt: 0, reasoning: "", thinkingMs: null },
    ]);
    return ids;
  }

  const endOf = (id: string, i: number): Finish & { id: string } => ({
    id,
    status: i === 2 ? "error" : "complete",
    at: i === 1 ? "Saved before ".length : 0,
    content: `the end ${i} — ünïcode "quoted"`,
    html: `<p>the end ${i}</p>`,
    reasoningAt: 0,
    reasoning: i === 0 ? "Thought about it" : "",
    thinkingMs: i === 0 ? 1234 : null,
    error: i === 2 ? "The provider failed" : null,
    finishReason: i === 2 ? null : "stop",
    promptTokens: 10 + i,
    completionTokens: i === 2 ? null : 20 + i,
    reasoningTokens: i === 0 ? 5 : null,
    cachedTokens: null,
    cost: i === 2 ? null : 0.000123 * (i + 1),
    sources: i === 0 ? [{ url: "https://example.com/a", title: "A" }] : null,
  });

  /** A message as the comparison sees it: what was written, not which row or when. */
  const written = (m: Message | undefined) =>
    m && { ...m, id: "", chatId: "", parentId: "", createdAt: 0, finishedAt: !!m.finishedAt, leaseUntil: 0 };

  test("one statement ends each answer as finishMessage alone would, and the reads after it agree", async () => {
    const alone = await answersBeingWritten();
    const together = await answersBeingWritten();
    const one = [];
    for (const [i, a] of alone.entries())
      one.push(await finishMessage(t.database.db, a.answerId, endOf(a.answerId, i)));
    const missing = "00000000-0000-7000-8000-000000000000";
    const all = await finishMessages(t.database.db, [
      ...together.map((a, i) => endOf(a.answerId, i)),
      endOf(missing, 0),
    ]);
    expect(all).toHaveLength(4);
    expect(all[3]).toBeUndefined();
    expect(all.slice(0, 3).map(written)).toEqual(one.map(written));
    expect(all[1]!.content).toBe('Saved before the end 1 — ünïcode "quoted"');
    expect(all[0]!.sources).toEqual([{ url: "https://example.com/a", title: "A" }]);
    expect(all.map((m) => m?.id)).toEqual([...together.map((a) => a.answerId), undefined]);
    // What is stored, read apart (the statement does not read its HTML back).
    const stored = await t.database.db
      .select()
      .from(messages)
      .where(
        inArray(
          messages.id,
          [...together, ...alone].map((a) => a.answerId),
        ),
      );
    const byId = new Map(stored.map((m) => [m.id, m]));
    expect(together.map((a) => written(byId.get(a.answerId)))).toEqual(alone.map((a) => written(byId.get(a.answerId))));
    expect(together.map((a) => byId.get(a.answerId)?.html)).toEqual([
      "<p>the end 0</p>",
      "<p>the end 1</p>",
      "<p>the end 2</p>",
    ]);

    const totals = await chatsWithTotals(t.database.db, [...together.map((a) => a.chatId), missing]);
    const totalsAlone = await Promise.all(together.map((a) => chatWithTotals(t.database.db, a.chatId)));
    expect(totals).toEqual([...totalsAlone, undefined]);
    expect(totals[0]!.totals.tokens).toBe(10 + 20 + 0);

    // Another version of the first answer (a Regenerate): each answer's place among its versions.
    await t.database.db.insert(messages).values({
      chatId: together[0]!.chatId,
      parentId: all[0]!.parentId,
      role: "assistant",
      content: "Another version",
      status: "complete",
    });
    const versions = await siblingsOfMessages(
      t.database.db,
      together.map((a) => a.answerId),
    );
    const versionsAlone = await siblingsOf(t.database.db, together[0]!.chatId, [together[0]!.answerId]);
    expect(versions.get(together[0]!.answerId)).toEqual(versionsAlone.get(together[0]!.answerId));
    expect(versions.get(together[0]!.answerId)?.count).toBe(2);
    expect(versions.has(together[1]!.answerId)).toBe(false);
  });

  test("costs settled in the same moment are each written to their own row", async () => {
    const rows = await t.database.db
      .insert(usage)
      .values([0, 1, 2].map((i) => ({ userId: cy, kind: "answer" as const, model: `fake/${i}`, estimate: 0.5 })))
      .returning();
    await Promise.all(
      rows.map((row, i) =>
        settle(t.database.db, row.id, { promptTokens: i, completionTokens: i * 10, cost: i ? 0.25 * i : null }),
      ),
    );
    const after = await t.database.db
      .select()
      .from(usage)
      .where(
        inArray(
          usage.id,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(asc(usage.model));
    expect(after.map((r) => [r.promptTokens, r.completionTokens, r.cost, !!r.settledAt])).toEqual([
      [0, 0, null, true],
      [1, 10, 0.25, true],
      [2, 20, 0.5, true],
    ]);
  });
});

eachDriver("sidebars pushed together", (t) => {
  test("many people's chat lists and projects in one read: each what their own read gives, in the order asked", async () => {
    const db = t.database.db;
    const [ann, bob, cy] = await db
      .insert(users)
      .values(["ann-lists", "bob-lists", "cy-lists"].map((username) => ({ username, passwordHash: null })))
      .returning();
    const [annProject] = await db
      .insert(projects)
      .values([
        { userId: ann!.id, name: "Zebra" },
        { userId: ann!.id, name: "Atlas" },
        { userId: bob!.id, name: "Bob's only" },
      ])
      .returning();
    // More than a page (CHAT_LIST_PAGE, 50), with times tied in pairs: the page's end and ties decide `more`.
    const base = Date.UTC(2026, 0, 1);
    const listed = await db
      .insert(chats)
      .values(
        Array.from({ length: 53 }, (_, i) => ({
          userId: ann!.id,
          title: `Ann ${i}`,
          model: "fake/fast",
          updatedAt: new Date(base + Math.floor(i / 2) * 1000),
        })),
      )
      .returning();
    await db.insert(chats).values([
      { userId: ann!.id, title: "Pinned first", model: "fake/fast", pinnedAt: new Date(base + 5000) },
      { userId: ann!.id, title: "Pinned later", model: "fake/fast", pinnedAt: new Date(base + 9000) },
      { userId: ann!.id, title: "Archived", model: "fake/fast", archivedAt: new Date(base) },
      { userId: ann!.id, title: "Temporary", model: "fake/fast", temporary: true },
      { userId: ann!.id, title: "In a project", model: "fake/fast", projectId: annProject!.id },
      { userId: bob!.id, title: "Bob's chat", model: "fake/fast" },
    ]);
    // An answer being written in one of Ann's listed chats marks it.
    const writing = listed.at(-1)!;
    await db.insert(messages).values({ chatId: writing.id, role: "assistant", content: "", status: "streaming" });

    const people = [bob!.id, ann!.id, cy!.id];
    const [lists, groups] = await Promise.all([chatLists(db, people), projectGroupsOf(db, people)]);
    const alone = await Promise.all(people.map((id) => chatList(db, id)));
    expect(lists).toEqual(alone);
    expect(groups).toEqual(await Promise.all(people.map((id) => projectGroups(db, id))));
    // What the comparison stands on: Ann's list is a full page with more, her pins, the one being written.
    const annList = lists[1]!;
    expect(annList.chats).toHaveLength(50);
    expect(annList.more).toBe(annList.chats.at(-1)!.id);
    expect(annList.pinned.map((c) => c.title)).toEqual(["Pinned later", "Pinned first"]);
    expect([...annList.generating]).toEqual([writing.id]);
    expect(lists[0]!.chats.map((c) => c.title)).toEqual(["Bob's chat"]);
    expect(lists[2]).toEqual({ pinned: [], chats: [], generating: new Set(), more: undefined });
    expect(groups.map((g) => g.map((p) => p.name))).toEqual([["Bob's only"], ["Atlas", "Zebra"], []]);
  });
});

eachDriver("spending limits read together", (t) => {
  test("a send's read tells who has no limit; allowances read together are what reading them alone gives", async () => {
    const db = t.database.db;
    const [own, grouped, free] = await db
      .insert(users)
      .values([
        { username: "own-limit", passwordHash: null, dailyLimit: 2 },
        { username: "group-limit", passwordHash: null },
        { username: "no-limit", passwordHash: null },
      ])
      .returning();
    const [group] = await db.insert(groups).values({ name: "Capped together", monthlyLimit: 10 }).returning();
    await db.insert(groupMembers).values({ groupId: group!.id, userId: grouped!.id });
    await db.insert(usage).values([
      { userId: own!.id, kind: "answer", model: "fake/fast", estimate: 0.5, cost: 0.25 },
      { userId: grouped!.id, kind: "answer", model: "fake/fast", estimate: 3 },
    ]);
    const people = [own!.id, grouped!.id, free!.id];
    // A send's read says the same (no limit: its answer's usage is only recorded, see recordAlongside).
    const [chat] = await db.insert(chats).values({ userId: free!.id, title: "Mine", model: "fake/fast" }).returning();
    const asked = [...people.map((userId) => ({ userId, chatId: chat!.id })), { userId: free!.id, chatId: chat!.id }];
    const read = async () => (await ownChatsForSend(db, asked)).map((r) => [!!r.chat, r.unlimited]);
    expect(await read()).toEqual([
      [false, false],
      [false, false],
      [true, true],
      [true, true],
    ]);
    // A site limit applies to everyone.
    await db.insert(siteSettings).values({ name: SITE_LIMITS_SETTING, value: { siteMonth: 100 } });
    expect((await read()).map(([, unlimited]) => unlimited)).toEqual([false, false, false, false]);
    await db.delete(siteSettings).where(eq(siteSettings.name, SITE_LIMITS_SETTING));
    const together = await Promise.all(people.map((id) => allowancesAfterAnswer(db, id)));
    expect(together).toEqual(await Promise.all(people.map((id) => allowances(db, id))));
    expect(together.map((list) => list.map((a) => [a.period, a.limit, a.spent]))).toEqual([
      [["day", 2, 0.25]],
      [["month", 10, 3]],
      [],
    ]);
  });
});
