import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq, like, sql } from "drizzle-orm";
import { auditLog, chats, groupMembers, groups, messages, presets } from "../../src/db/schema.ts";
import { allowedModels } from "../../src/teams/access.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { endOfShown } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const FORBIDDEN = "Your groups do not allow the model fake/smart; choose another.";
const errorOf = (html: string) => /<p id="composer-status"[^>]*data-kind="error"[^>]*>([^<]*)</.exec(html)?.[1];
const post = (who: Person, path: string, form: Record<string, string>) =>
  who.fetch(path, { method: "POST", body: new URLSearchParams(form) });

eachDriver("groups", (t) => {
  let server: TestServer;
  let ann: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    ann = await server.signUp("ann");
  });
  afterAll(() => server.stop());

  const groupId = (res: Response) =>
    /\/admin\/groups\/([0-9a-f-]{36})\?done=created/.exec(res.headers.get("location") ?? "")![1]!;
  const actions = async () =>
    (await t.database.db.select().from(auditLog).where(like(auditLog.action, "group.%")).orderBy(asc(auditLog.id))).map(
      (a) => [a.action, a.target],
    );

  test("an admin makes, renames and deletes a group; bad names are refused with a sentence; each change is audited", async () => {
    const page = await server.fetch("/admin");
    expect(await page.text()).toContain('href="/admin/groups"');
    const empty = await (await server.fetch("/admin/groups")).text();
    expect(empty).toContain("No groups yet.");

    const made = await post(server, "/admin/groups", { name: "  Lab  people " });
    expect(made.status).toBe(303);
    const id = groupId(made);
    const shown = await (await server.fetch(`/admin/groups/${id}?done=created`)).text();
    expect(noticeOf(shown)).toBe("The group is created.");
    expect(shown).toContain("Group: Lab people");

    for (const [name, sentence] of [
      ["", "Give the group a name."],
      ["x".repeat(61), "A group's name can be at most 60 characters long."],
      ["LAB PEOPLE", "There is already a group named “LAB PEOPLE”; choose another name."],
    ] as const) {
      const refused = await post(server, "/admin/groups", { name });
      expect(refused.status).toBe(400);
      expect(alertOf(await refused.text())).toBe(sentence);
    }
    const hostile = await post(server, "/admin/groups", { name: '<img src=x onerror="alert(1)">' });
    const hostileId = groupId(hostile);
    const list = await (await server.fetch("/admin/groups")).text();
    expect(list).toContain("&lt;img src=x onerror=");
    expect(list).not.toContain("<img src=x");

    const other = await post(server, "/admin/groups", { name: "Other" });
    const taken = await post(server, `/admin/groups/${groupId(other)}/name`, { name: "lab people" });
    expect(taken.status).toBe(400);
    const takenPage = await taken.text();
    expect(alertOf(takenPage)).toBe("There is already a group named “lab people”; choose another name.");
    expect(takenPage).toContain('value="lab people"');
    const renamed = await post(server, `/admin/groups/${id}/name`, { name: "Lab" });
    expect(renamed.headers.get("location")).toBe(`/admin/groups/${id}?done=renamed`);
    // Renaming to itself in another case is not "taken".
    expect((await post(server, `/admin/groups/${id}/name`, { name: "LAB" })).status).toBe(303);

    for (const gid of [hostileId, groupId(other)]) {
      const gone = await post(server, `/admin/groups/${gid}/delete`, {});
      expect(gone.headers.get("location")).toBe("/admin/groups?done=deleted");
    }
    const missing = await server.fetch(`/admin/groups/${groupId(other)}`);
    expect(missing.status).toBe(404);
    expect(alertOf(await missing.text())).toBe("There is no such group.");
    const bad = await post(server, "/admin/groups/not-an-id/delete", {});
    expect(bad.status).toBe(404);
    expect(alertOf(await bad.text())).toBe("There is no such group.");

    expect(await actions()).toEqual([
      ["group.create", "group “Lab people”"],
      ["group.create", 'group “<img src=x onerror="alert(1)">”'],
      ["group.create", "group “Other”"],
      ["group.rename", "group “Lab people” renamed “Lab”"],
      ["group.rename", "group “Lab” renamed “LAB”"],
      ["group.delete", 'group “<img src=x onerror="alert(1)">”'],
      ["group.delete", "group “Other”"],
    ]);
    await post(server, `/admin/groups/${id}/delete`, {});
  });

  test("only an admin may see or change groups", async () => {
    const page = await ann.fetch("/admin/groups", { headers: { accept: "text/html" } });
    expect(page.status).toBe(403);
    const made = await post(ann, "/admin/groups", { name: "Mine" });
    expect(made.status).toBe(403);
    expect(await made.text()).toContain("Only an admin can do that");
    expect(await t.database.db.select().from(groups)).toEqual([]);
  });

  test("people are added and taken out; the allow-list and limits are validated with sentences and audited", async () => {
    await t.database.db.delete(auditLog).catch(() => {});
    const id = groupId(await post(server, "/admin/groups", { name: "Interns" }));
    const base = `/admin/groups/${id}`;
    const page = await (await server.fetch(base)).text();
    expect(page).toContain(`<option value="${ann.user.id}">ann</option>`);

    expect((await post(server, `${base}/members`, { user: ann.user.id })).headers.get("location")).toBe(
      `${base}?done=added`,
    );
    // Twice is still once.
    await post(server, `${base}/members`, { user: ann.user.id });
    expect(await t.database.db.select().from(groupMembers).where(eq(groupMembers.groupId, id))).toHaveLength(1);
    expect(await (await server.fetch("/admin/groups")).text()).toMatch(/>Interns<\/a><span[^>]*>1 person<\/span>/);
    const nobody = await post(server, `${base}/members`, { user: crypto.randomUUID() });
    expect(alertOf(await nobody.text())).toBe("There is no such person.");

    for (const [patterns, sentence] of [
      ["", "List at least one model or pattern, or choose “Every model” to restrict none."],
      ["fake/fast\nanthropic/**", "The pattern “anthropic/**” is not a model id or pattern"],
      ["fake/ fast", "The pattern “fake/ fast” has a space in it"],
      ["fake/fast super", "The pattern “fake/fast super” has a space in it"],
    ] as const) {
      const refused = await post(server, `${base}/models`, { mode: "only", patterns });
      expect(refused.status).toBe(400);
      const html = await refused.text();
      expect(alertOf(html)).toStartWith(sentence);
      // What was typed comes back to be fixed.
      expect(html).toContain(Bun.escapeHTML(patterns));
    }
    const saved = await post(server, `${base}/models`, { mode: "only", patterns: "Fake/Fast, anthropic/*" });
    expect(saved.headers.get("location")).toBe(`${base}?done=models`);
    const [row] = await t.database.db.select().from(groups).where(eq(groups.id, id));
    expect(row!.allowedModels).toEqual(["fake/fast", "anthropic/*"]);
    expect(await (await server.fetch("/admin/groups")).text()).toContain("Only fake/fast, anthropic/*");

    for (const [daily, monthly, sentence] of [
      ["-1", "", "The daily limit cannot be negative; leave it empty for no limit."],
      ["", "lots", "The monthly limit “lots” is not an amount in dollars; write it like 5 or 12.50."],
      ["", "1000000.01", "The monthly limit can be at most $1,000,000."],
      ["1e3", "", "The daily limit “1e3” is not an amount in dollars; write it like 5 or 12.50."],
      ["NaN", "", "The daily limit “NaN” is not an amount in dollars; write it like 5 or 12.50."],
    ] as const) {
      const refused = await post(server, `${base}/limits`, { daily, monthly });
      expect(refused.status).toBe(400);
      expect(alertOf(await refused.text())).toBe(sentence);
    }
    expect((await post(server, `${base}/limits`, { daily: "$2.50", monthly: "1,000" })).status).toBe(303);
    const [limited] = await t.database.db.select().from(groups).where(eq(groups.id, id));
    expect([limited!.dailyLimit, limited!.monthlyLimit]).toEqual([2.5, 1000]);
    await post(server, `${base}/limits`, { daily: "", monthly: "" });
    const [cleared] = await t.database.db.select().from(groups).where(eq(groups.id, id));
    expect([cleared!.dailyLimit, cleared!.monthlyLimit]).toEqual([null, null]);

    expect((await post(server, `${base}/members/${ann.user.id}/remove`, {})).headers.get("location")).toBe(
      `${base}?done=removed`,
    );
    expect(await actions()).toEqual([
      ["group.create", "group “Interns”"],
      ["group.member.add", "ann added to group “Interns”"],
      ["group.models", "group “Interns” allowed only 2 patterns"],
      ["group.limits", "group “Interns” limits: $2.5 a day, $1000 a month"],
      ["group.limits", "group “Interns” limits: none a day, none a month"],
      ["group.member.remove", "ann taken out of group “Interns”"],
    ]);
    await post(server, `${base}/delete`, {});
  });

  test("a person whose groups all have lists may use only what the lists allow; an unrestricted group lifts that", async () => {
    const restricted = groupId(await post(server, "/admin/groups", { name: "Restricted" }));
    await post(server, `/admin/groups/${restricted}/models`, { mode: "only", patterns: "fake/fast" });
    await post(server, `/admin/groups/${restricted}/members`, { user: ann.user.id });
    expect((await allowedModels(t.database.db, ann.user.id))("fake/smart")).toBe(false);
    expect((await allowedModels(t.database.db, ann.user.id))("fake/fast")).toBe(true);
    // Admins follow the same rules; this one is in no group.
    expect((await allowedModels(t.database.db, server.user.id))("fake/smart")).toBe(true);

    const open = groupId(await post(server, "/admin/groups", { name: "Open" }));
    await post(server, `/admin/groups/${open}/members`, { user: ann.user.id });
    expect((await allowedModels(t.database.db, ann.user.id))("fake/smart")).toBe(true);
    await post(server, `/admin/groups/${open}/delete`, {});
    expect((await allowedModels(t.database.db, ann.user.id))("fake/smart")).toBe(false);

    // The picker offers only fake/fast, even as a favourite.
    const home = await (await ann.fetch("/")).text();
    expect(home).toContain('<option value="fake/fast"');
    expect(home).not.toContain('value="fake/smart"');
  });

  test("the server refuses a forbidden model on every path, whatever the form says, and saves nothing", async () => {
    const count = async () =>
      (await t.database.rows<{ n: number }>(sql`select count(*)::int as n from messages`))[0]!.n;
    const before = await count();

    // Starting a chat (HTTP): refused before the chat is made; the typed text stays in the composer.
    const start = await post(ann, "/chats", { content: "Hello <there>", model: "fake/smart" });
    expect(start.status).toBe(400);
    const startPage = await start.text();
    expect(startPage).toContain(FORBIDDEN);
    expect(startPage).toContain("Hello &lt;there&gt;</textarea>");
    expect(await t.database.db.select().from(chats).where(eq(chats.userId, ann.user.id))).toEqual([]);

    // Starting from a preset whose model is now forbidden (its own model, none chosen on the page).
    const [preset] = await t.database.db
      .insert(presets)
      .values({ userId: ann.user.id, name: "Old", model: "fake/smart" })
      .returning();
    const fromPreset = await post(ann, "/chats", { content: "Hi", preset: preset!.id });
    expect(fromPreset.status).toBe(400);
    expect(await fromPreset.text()).toContain(FORBIDDEN);

    // Creating and editing presets.
    const made = await post(ann, "/presets", { name: "Smart", model: "fake/smart" });
    expect(made.status).toBe(400);
    expect(alertOf(await made.text())).toBe(FORBIDDEN);
    const edited = await post(ann, `/presets/${preset!.id}`, { name: "Old", model: "fake/smart" });
    expect(edited.status).toBe(400);
    expect(alertOf(await edited.text())).toBe(FORBIDDEN);

    // A chat made before the list (its model now forbidden): changing to it, sending, retrying, editing.
    const allowed = await post(ann, "/chats", { content: "First", model: "fake/fast" });
    expect(allowed.status).toBe(303);
    const chatId = allowed.headers.get("location")!.split("/").pop()!;
    const ws = await ann.socket(`/ws?chat=${chatId}`);
    const shown = await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const [answer] = await t.database.db.select().from(messages).where(eq(messages.role, "assistant"));
    // The chat's first answer must end first (while it is written, a send or retry is refused for
    // that, not for the model).
    await endOfShown(ws, shown);
    const change = await post(ann, `/chats/${chatId}/model`, { model: "fake/smart" });
    expect(change.status).toBe(400);
    expect(await change.text()).toBe(FORBIDDEN);
    const fromChat = await post(ann, `/chats/${chatId}/preset`, { name: "From chat" });
    expect(fromChat.status).toBe(200);

    await t.database.db.update(chats).set({ model: "fake/smart" }).where(eq(chats.id, chatId));
    const presetFromChat = await post(ann, `/chats/${chatId}/preset`, { name: "From forbidden chat" });
    expect(presetFromChat.status).toBe(422);
    expect(await presetFromChat.text()).toContain(FORBIDDEN);
    const afterFirst = await count();

    const [userMessage] = await t.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatId, chatId))
      .orderBy(asc(messages.id));
    for (const frame of [
      { action: "send", chat: chatId, content: "again" },
      { action: "retry", message: answer!.id },
      { action: "edit", message: userMessage!.id, content: "changed" },
    ]) {
      const from = ws.messages.length;
      ws.send(frame);
      expect(errorOf(await ws.waitFor((m) => !!errorOf(m), { from }))).toBe(FORBIDDEN);
    }
    expect(await count()).toBe(afterFirst);
    expect(afterFirst).toBe(before + 2);
    // Nothing of fake/smart went upstream.
    expect(fake.requests.some((r) => (r.body as { model?: string }).model === "fake/smart")).toBe(false);
    await ws.close();
  });
});
