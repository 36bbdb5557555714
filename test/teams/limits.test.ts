import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { and, asc, eq, inArray } from "drizzle-orm";
import { auditLog, chats, groupMembers, groups, messages, siteSettings, usage, users } from "../../src/db/schema.ts";
import { limitsFor } from "../../src/teams/limits-repo.ts";
import { periods, refusalSentence } from "../../src/teams/limits-words.ts";
import { estimateCost, reserve, SpendingRefused, settle } from "../../src/teams/spending.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer, twoInstances } from "../support/server.ts";
import { finished, type TestSocket } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const assistantId = (html: string) =>
  /<article id="msg-([0-9a-f-]+)"(?: hx-swap-oob="true")? data-role="assistant"/.exec(html)?.[1];
const DAILY_REFUSAL =
  /You have reached your daily limit of \$[\d.]+ \(spent \$[\d.]+\); it resets at 00:00 UTC, in \d+ (hours?|minutes?)\./;

test("a refusal names the limit, the amount, what was spent and when it resets", () => {
  const now = new Date(Date.UTC(2025, 6, 22, 21, 0));
  const { day, month } = periods(now);
  expect(day.end.toISOString()).toBe("2025-07-23T00:00:00.000Z");
  expect(month.start.toISOString()).toBe("2025-07-01T00:00:00.000Z");
  expect(refusalSentence("day", 5, 5.02, day.end, now)).toBe(
    "You have reached your daily limit of $5.00 (spent $5.02); it resets at 00:00 UTC, in 3 hours.",
  );
  expect(refusalSentence("month", 50, 50.1, month.end, now)).toBe(
    "You have reached your monthly limit of $50.00 (spent $50.10); it resets on 1 August at 00:00 UTC, in 9 days.",
  );
  expect(refusalSentence("site", 100, 100, month.end, now)).toContain("This site has reached its monthly spending cap");
});

test("an estimate is the model's prices times the request's size: prompt characters / 4, and max_tokens or a default", () => {
  const model = { promptPrice: 1, completionPrice: 2 }; // dollars per million tokens
  expect(estimateCost(model, [{ content: "x".repeat(4000) }], 500)).toBeCloseTo((1000 * 1 + 500 * 2) / 1e6, 12);
  expect(estimateCost(model, [{ content: "abcd" }], undefined)).toBeCloseTo((1 + 1000 * 2) / 1e6, 12);
  expect(estimateCost(undefined, [{ content: "abcd" }], 10)).toBe(0);
});

eachDriver("spending limits", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const db = () => t.database.db;
  const setLimits = (userId: string, day: number | null, month: number | null = null) =>
    db().update(users).set({ dailyLimit: day, monthlyLimit: month }).where(eq(users.id, userId));
  const spent = (userId: string, cost: number) =>
    db()
      .insert(usage)
      .values({ userId, kind: "answer", model: "fake/fast", estimate: cost, cost, settledAt: new Date() });
  const usageOf = (userId: string) =>
    db().select().from(usage).where(eq(usage.userId, userId)).orderBy(asc(usage.createdAt), asc(usage.id));
  const newChat = async (userId: string, title = "Limits") =>
    (await db().insert(chats).values({ userId, title, model: "fake/fast" }).returning())[0]!;
  const tab = async (person: Person, chatId: string) => {
    const ws = await person.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    return ws;
  };
  /** Sends and waits for the answer's end; its stored row. */
  const sendAndWait = async (ws: TestSocket, chatId: string, content: string, action: object = {}) => {
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content, ...action });
    const started = await ws.waitFor((m) => !!assistantId(m) && m.includes('data-status="streaming"'), { from });
    const id = assistantId(started)!;
    await ws.waitFor(finished(id), { from });
    return (await db().select().from(messages).where(eq(messages.id, id)))[0]!;
  };
  const retry = async (ws: TestSocket, messageId: string) => {
    const from = ws.messages.length;
    ws.send({ action: "retry", message: messageId });
    const started = await ws.waitFor((m) => !!assistantId(m) && m.includes('data-status="streaming"'), { from });
    const id = assistantId(started)!;
    await ws.waitFor(finished(id), { from });
    return (await db().select().from(messages).where(eq(messages.id, id)))[0]!;
  };

  test("the limit that applies: the person's own, else the most generous of their groups', else the site's default", async () => {
    const { user } = await server.signUp("layered");
    await db()
      .insert(siteSettings)
      .values({ name: "spending_limits", value: { day: 1, month: 10, siteMonth: null } });
    expect((await limitsFor(db(), user.id))!.own).toEqual({ day: 1, month: 10 });
    const [a, b] = await db()
      .insert(groups)
      .values([
        { name: "Lab", dailyLimit: 2 },
        { name: "Staff", dailyLimit: 3, monthlyLimit: null },
      ])
      .returning();
    await db()
      .insert(groupMembers)
      .values([
        { groupId: a!.id, userId: user.id },
        { groupId: b!.id, userId: user.id },
      ]);
    // Groups set no monthly limit: the site's default still applies to the month.
    expect((await limitsFor(db(), user.id))!.own).toEqual({ day: 3, month: 10 });
    await setLimits(user.id, 0.5, null);
    expect((await limitsFor(db(), user.id))!.own).toEqual({ day: 0.5, month: 10 });
    await db().delete(siteSettings).where(eq(siteSettings.name, "spending_limits"));
    await db().delete(groups);
  });

  test("reserve refuses once the spending reached the limit, and settle's cost replaces the estimate", async () => {
    const { user } = await server.signUp("counted");
    await setLimits(user.id, 1);
    const first = await reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.6 });
    const second = await reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.6 });
    // Spent 1.20 (two estimates): the third is refused.
    const refused = reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.6 });
    await expect(refused).rejects.toThrow(SpendingRefused);
    await expect(refused).rejects.toThrow(/daily limit of \$1\.00 \(spent \$1\.20\)/);
    // The first cost less than estimated: settled, it counts what it cost, and there is room again.
    await settle(db(), first, { promptTokens: 10, completionTokens: 5, cost: 0.1 });
    const rows = await usageOf(user.id);
    expect(rows.find((r) => r.id === first)).toMatchObject({
      cost: 0.1,
      promptTokens: 10,
      settledAt: expect.any(Date),
    });
    await reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.6 });
    // Settled without a cost (a stopped answer): its estimate keeps counting.
    await settle(db(), second, {});
    expect((await usageOf(user.id)).find((r) => r.id === second)).toMatchObject({ cost: null, estimate: 0.6 });
    await expect(reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.6 })).rejects.toThrow(
      SpendingRefused,
    );
  });

  test("concurrent reserves for one person cannot pass the limit by more than one request in flight", async () => {
    const { user } = await server.signUp("racer");
    await setLimits(user.id, 1);
    const tries = Array.from({ length: 12 }, () =>
      reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0.3 }).then(
        () => true,
        (err) => {
          if (!(err instanceof SpendingRefused)) throw err;
          return false;
        },
      ),
    );
    const passed = (await Promise.all(tries)).filter(Boolean).length;
    // 0, 0.3, 0.6 and 0.9 are under $1: four pass, the fifth sees $1.20.
    expect(passed).toBe(4);
    expect((await usageOf(user.id)).length).toBe(4);
  });

  test("a send over the limit keeps the message, fails its answer with the refusal, and can be retried later", async () => {
    const person = await server.signUp("thrifty");
    await setLimits(person.user.id, 0.5);
    await spent(person.user.id, 0.51);
    const chat = await newChat(person.user.id);
    const ws = await tab(person, chat.id);
    const requests = fake.requests.length;
    const answer = await sendAndWait(ws, chat.id, "are you there?");
    expect(answer.status).toBe("error");
    expect(answer.error).toMatch(DAILY_REFUSAL);
    expect(answer.error).toContain("limit of $0.50 (spent $0.51)");
    // Said beside the composer too, and nothing went upstream.
    expect(ws.messages.some((m) => m.includes('id="composer-status"') && DAILY_REFUSAL.test(m))).toBe(true);
    expect(fake.requests.length).toBe(requests);
    const question = await db()
      .select()
      .from(messages)
      .where(and(eq(messages.chatId, chat.id), eq(messages.role, "user")));
    expect(question.map((m) => m.content)).toEqual(["are you there?"]);
    expect((await usageOf(person.user.id)).length).toBe(1); // only the seeded spending

    // Retry is refused the same way while the limit holds...
    const again = await retry(ws, answer.id);
    expect(again.error).toMatch(DAILY_REFUSAL);
    // ...and writes the answer once the admin raised it.
    await setLimits(person.user.id, 5);
    fake.queue({ text: "Here now." });
    const written = await retry(ws, answer.id);
    expect(written).toMatchObject({ status: "complete", content: "Here now." });
    await ws.close();
  });

  test("regenerate and edit are refused over the limit; the answer they had stays", async () => {
    const person = await server.signUp("regen");
    const chat = await newChat(person.user.id);
    const ws = await tab(person, chat.id);
    fake.queue({ text: "First answer." });
    const first = await sendAndWait(ws, chat.id, "hello");
    expect(first.status).toBe("complete");
    await setLimits(person.user.id, null, 0.0001);
    const regenerated = await retry(ws, first.id);
    expect(regenerated.id).not.toBe(first.id);
    expect(regenerated.error).toMatch(
      /You have reached your monthly limit of \$0\.0001 \(spent \$[\d.]+\); it resets on \d+ \w+ at 00:00 UTC/,
    );
    expect((await db().select().from(messages).where(eq(messages.id, first.id)))[0]!.content).toBe("First answer.");
    const question = (
      await db()
        .select()
        .from(messages)
        .where(and(eq(messages.chatId, chat.id), eq(messages.role, "user")))
    )[0]!;
    const from = ws.messages.length;
    ws.send({ action: "edit", message: question.id, content: "hello again" });
    const started = await ws.waitFor((m) => !!assistantId(m) && m.includes('data-status="streaming"'), { from });
    await ws.waitFor(finished(assistantId(started)!), { from });
    const edited = (
      await db()
        .select()
        .from(messages)
        .where(eq(messages.id, assistantId(started)!))
    )[0]!;
    expect(edited.error).toMatch(/monthly limit/);
    await ws.close();
  });

  test("an answer that crosses the limit mid-stream finishes whole, settled at its cost; the next is refused", async () => {
    const person = await server.signUp("crosser");
    await setLimits(person.user.id, 0.001);
    const chat = await newChat(person.user.id);
    const ws = await tab(person, chat.id);
    const text = "A long answer. ".repeat(40).trim();
    fake.queue({ text, tokenDelayMs: 1, usage: { promptTokens: 900, cachedTokens: 0, cost: 0.004 } });
    const crossed = await sendAndWait(ws, chat.id, "write a lot");
    expect(crossed).toMatchObject({ status: "complete", content: text });
    const [row] = (await usageOf(person.user.id)).filter((r) => r.kind === "answer");
    expect(row).toMatchObject({ messageId: crossed.id, cost: 0.004, promptTokens: 900, settledAt: expect.any(Date) });
    expect(row!.estimate).not.toBe(0.004);
    const next = await sendAndWait(ws, chat.id, "and more");
    expect(next.error).toContain("You have reached your daily limit of $0.001 (spent $0.004)");
    // The composer says the limit is reached (pushed after the crossing answer ended).
    expect(
      ws.messages.some((m) => m.includes('id="spending-notice"') && m.includes("You have reached your daily limit")),
    ).toBe(true);
    await ws.close();
  });

  test("a chat's title counts against the limit, and over it the first words stay the title", async () => {
    const free = await server.signUp("titled");
    fake.queue({ text: "Sure." });
    const made = await free.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "name this chat please", model: "fake/fast" }),
    });
    expect(made.status).toBe(303);
    for (let i = 0; i < 300 && !(await usageOf(free.user.id)).some((r) => r.kind === "title" && r.settledAt); i++) {
      await Bun.sleep(20);
    }
    expect((await usageOf(free.user.id)).find((r) => r.kind === "title")).toMatchObject({ cost: 0.00001 });

    const capped = await server.signUp("untitled");
    // The answer's own cost ($0.000123) reaches the limit: the title is not asked for.
    await setLimits(capped.user.id, 0.0001);
    fake.queue({ text: "Sure." });
    const titleRequests = () => fake.requests.filter((r) => !r.body.stream).length;
    const before = titleRequests();
    const res = await capped.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "name this one too", model: "fake/fast" }),
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location")!)![1]!;
    for (let i = 0; i < 300; i++) {
      const rows = await db().select().from(messages).where(eq(messages.chatId, chatId));
      if (rows.some((m) => m.role === "assistant" && m.status === "complete")) break;
      await Bun.sleep(20);
    }
    // The title would be asked right after the end is saved: a later send shows it was skipped.
    const ws = await tab(capped, chatId);
    const next = await sendAndWait(ws, chatId, "again");
    expect(next.error).toMatch(DAILY_REFUSAL);
    expect(titleRequests()).toBe(before);
    expect((await usageOf(capped.user.id)).map((r) => r.kind)).toEqual(["answer"]);
    expect((await db().select().from(chats).where(eq(chats.id, chatId)))[0]!.title).toBe("name this one too");
    await ws.close();
  });

  test("the account page says what is left of each limit; the chat page warns under a fifth", async () => {
    const person = await server.signUp("budget");
    let page = await (await person.fetch("/account")).text();
    expect(page).toContain("No spending limit applies to you.");
    await setLimits(person.user.id, 5, 50);
    await spent(person.user.id, 3.8);
    page = await (await person.fetch("/account")).text();
    expect(page).toContain("$1.20 of $5.00 left today");
    expect(page).toContain("$46.20 of $50.00 left this month");
    expect(await (await person.fetch("/")).text()).not.toContain("left today.");
    await spent(person.user.id, 0.5);
    const chatPage = await (await person.fetch("/")).text();
    expect(chatPage).toMatch(/<p id="spending-notice"[^>]*data-kind="low"[^>]*>\$0\.70 of \$5\.00 left today\.<\/p>/);
  });

  test("the admin sets the defaults, the site's cap and a person's own limits; bad amounts get a sentence", async () => {
    const post = (path: string, fields: Record<string, string>) =>
      server.fetch(path, { method: "POST", body: new URLSearchParams(fields) });
    const cases: [Record<string, string>, RegExp][] = [
      [{ day: "-1" }, /The default daily limit cannot be negative \(got “-1”\)/],
      [{ month: "lots" }, /The default monthly limit must be an amount in dollars, such as 5 or 2\.50 \(got “lots”\)/],
      [{ siteMonth: "2000000" }, /The site-wide monthly cap can be at most \$1,000,000 \(got “2000000”\)/],
      [{ day: "1e3" }, /must be an amount in dollars/],
    ];
    for (const [fields, sentence] of cases) {
      const res = await post("/admin/limits", fields);
      expect(res.status).toBe(400);
      expect(await res.text()).toMatch(sentence);
    }
    const saved = await post("/admin/limits", { day: "$2.50", month: "40", siteMonth: "1,000" });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe("/admin?done=limits-saved");
    const admin = await (await server.fetch("/admin")).text();
    expect(admin).toContain('value="2.5"');
    expect(admin).toContain('value="1000"');

    const { user } = await server.signUp("overridden");
    const bad = await post(`/admin/users/${user.id}/limits`, { day: "-0.5", month: "" });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("The daily limit cannot be negative");
    expect(await post(`/admin/users/${user.id}/limits`, { day: "0.75", month: "" })).toMatchObject({ status: 303 });
    expect((await limitsFor(db(), user.id))!.own).toEqual({ day: 0.75, month: 40 });
    const nobody = await post("/admin/users/not-an-id/limits", { day: "1" });
    expect(nobody.status).toBe(400);
    expect(await nobody.text()).toContain("There is no such person.");

    // Not for anyone else.
    const other = await server.signUp("sneaky");
    const refused = await other.fetch("/admin/limits", { method: "POST", body: new URLSearchParams({ day: "999" }) });
    expect(refused.status).toBe(403);
    await post("/admin/limits", { day: "", month: "", siteMonth: "" });

    // Each change that was saved is in the audit log, with who made it; refusals are not.
    const entries = await db()
      .select({ actor: auditLog.actorName, action: auditLog.action, target: auditLog.target, detail: auditLog.detail })
      .from(auditLog)
      .where(inArray(auditLog.action, ["limits.site", "limits.person"]))
      .orderBy(asc(auditLog.id));
    const me = server.user.username;
    expect(entries).toEqual([
      {
        actor: me,
        action: "limits.site",
        target: "the site's default limits and cap",
        detail: { day: 2.5, month: 40, siteMonth: 1000 },
      },
      { actor: me, action: "limits.person", target: "overridden", detail: { day: 0.75, month: null } },
      {
        actor: me,
        action: "limits.site",
        target: "the site's default limits and cap",
        detail: { day: null, month: null, siteMonth: null },
      },
    ]);
  });

  test("the site-wide cap counts everyone's spending", async () => {
    const { user } = await server.signUp("capped");
    const { user: other } = await server.signUp("spender");
    await db()
      .insert(siteSettings)
      .values({ name: "spending_limits", value: { day: null, month: null, siteMonth: 0.01 } })
      .onConflictDoUpdate({ target: siteSettings.name, set: { value: { day: null, month: null, siteMonth: 0.01 } } });
    await spent(other.id, 1_000);
    await expect(reserve(db(), { userId: user.id, kind: "api", model: "fake/fast", estimate: 0 })).rejects.toThrow(
      /This site has reached its monthly spending cap of \$0\.01/,
    );
    await db().delete(siteSettings).where(eq(siteSettings.name, "spending_limits"));
    await db().delete(usage).where(eq(usage.userId, other.id));
  });
});

/** Two app instances, each with its own pool, on one Postgres: the database is the only counter. */
describe.if(DRIVERS.includes("postgres"))("spending limits across two instances [postgres]", () => {
  const instances = twoInstances(() => fakeEnv(fake));
  const { t } = instances;

  test("sends for one person on two instances at once: at most one answer in flight passes the limit", async () => {
    const onA = await instances.a.signUp("twin");
    const onB = await instances.b.signIn("twin");
    // Under one answer's estimate: the first to reserve passes, the other sees its estimate.
    await t.database.db.update(users).set({ dailyLimit: 0.0001 }).where(eq(users.id, onA.user.id));
    const chatsMade = await t.database.db
      .insert(chats)
      .values([0, 1, 2, 3].map((i) => ({ userId: onA.user.id, title: `Twin ${i}`, model: "fake/fast" })))
      .returning();
    const tabs = await Promise.all(
      chatsMade.map(async (chat, i) => {
        const ws = await (i % 2 ? onB : onA).socket(`/ws?chat=${chat.id}`);
        await ws.waitFor((m) => m.includes('id="transcript-live"'));
        return ws;
      }),
    );
    for (let i = 0; i < 4; i++) fake.queue({ text: "answer", tokenDelayMs: 5 });
    for (const [i, ws] of tabs.entries()) ws.send({ action: "send", chat: chatsMade[i]!.id, content: `at once ${i}` });
    const ends = await Promise.all(
      tabs.map(async (ws) => {
        const started = await ws.waitFor((m) => !!assistantId(m) && m.includes('data-status="streaming"'));
        const id = assistantId(started)!;
        await ws.waitFor(finished(id));
        return (await t.database.db.select().from(messages).where(eq(messages.id, id)))[0]!;
      }),
    );
    expect(ends.filter((m) => m.status === "complete").length).toBe(1);
    expect(ends.filter((m) => m.status === "error" && DAILY_REFUSAL.test(m.error ?? "")).length).toBe(3);
    expect((await t.database.db.select().from(usage).where(eq(usage.userId, onA.user.id))).length).toBe(1);
    await Promise.all(tabs.map((ws) => ws.close()));
  });

  test("concurrent reserves through two pools stop at the same count as through one", async () => {
    const [user] = await t.database.db
      .insert(users)
      .values({ username: "pools", passwordHash: "x", dailyLimit: 1 })
      .returning();
    const tries = Array.from({ length: 16 }, (_, i) =>
      reserve((i % 2 ? instances.second : t.database).db, {
        userId: user!.id,
        kind: "api",
        model: "m",
        estimate: 0.3,
      }).then(
        () => 1,
        () => 0,
      ),
    );
    expect((await Promise.all(tries)).reduce((s: number, n) => s + n, 0)).toBe(4);
  });
});
