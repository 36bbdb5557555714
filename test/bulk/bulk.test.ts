import { afterAll, beforeAll, expect, test } from "bun:test";
import { inArray } from "drizzle-orm";
import { chats, messages, projects } from "../../src/db/schema.ts";
import { MAX_BULK_CHATS } from "../../src/limits.ts";
import { fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

const fake = startFakeUpstream();
afterAll(() => fake.stop());

eachDriver("bulk actions on the chat list (POST /chats/bulk)", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bulk-bob");
  });
  afterAll(() => server.stop());

  const make = async (titles: string[], values: Partial<typeof chats.$inferInsert> = {}, who: Person = server) => {
    const rows = await t.database.db
      .insert(chats)
      .values(titles.map((title) => ({ userId: who.user.id, title, model: "fake/fast", ...values })))
      .returning();
    return rows.map((r) => r.id);
  };
  const rows = (ids: string[]) => t.database.db.select().from(chats).where(inArray(chats.id, ids));
  const project = async (name: string, who: Person = server) => {
    const [row] = await t.database.db.insert(projects).values({ userId: who.user.id, name }).returning();
    return row!.id;
  };
  /** The form as the sidebar's Select posts it (ids repeated), as htmx sends it unless `plain`. */
  const bulk = (form: Record<string, string>, ids: string[], opts: { who?: Person; plain?: boolean } = {}) => {
    const body = new URLSearchParams(form);
    for (const id of ids) body.append("ids", id);
    return (opts.who ?? server).fetch("/chats/bulk", {
      method: "POST",
      body,
      headers: opts.plain ? {} : { "HX-Request": "true" },
    });
  };

  test("archive: the checked chats leave the list in one push to the person's tabs; the plain form goes back to a new chat", async () => {
    const ids = await make(["Bulk one", "Bulk two", "Bulk three"]);
    const [kept] = await make(["Bulk kept"]);
    const ws = await server.socket("/ws");
    await ws.waitFor((m) => m.includes('id="chat-nav"') && m.includes(ids[0]!));
    const from = ws.messages.length;

    const res = await bulk({ action: "archive" }, ids);
    expect(res.status).toBe(204);
    for (const row of await rows(ids)) expect(row.archivedAt).toBeInstanceOf(Date);
    expect((await rows([kept!]))[0]!.archivedAt).toBeNull();
    const pushed = await ws.waitFor((m) => m.includes('id="chat-nav"') && !m.includes(ids[0]!), { from });
    for (const id of ids) expect(pushed).not.toContain(id);
    expect(pushed).toContain(kept!);
    // One push for the three: a rename after it is the next list this tab hears.
    await server.fetch(`/chats/${kept}/title`, {
      method: "POST",
      body: new URLSearchParams({ title: "Bulk renamed" }),
    });
    await ws.waitFor((m) => m.includes("Bulk renamed"), { from });
    const lists = ws.messages.slice(from).filter((m) => m.includes('id="chat-nav"'));
    expect(lists.length).toBe(2);
    await ws.close();

    const [plain] = await make(["Bulk plain"]);
    const back = await bulk({ action: "archive" }, [plain!], { plain: true });
    expect([back.status, back.headers.get("location")]).toEqual([303, "/"]);
    expect((await rows([plain!]))[0]!.archivedAt).toBeInstanceOf(Date);
  });

  test("move: into one of the person's projects, out of any, never into another person's; each chat's open tabs hear where it went", async () => {
    const ids = await make(["Move one", "Move two"]);
    const garden = await project("Bulk garden");
    const tab = await server.socket(`/ws?chat=${ids[0]}`);
    // The tab hears its chat once it has caught up with it (the socket subscribes, then resyncs).
    await tab.waitFor((m) => m.includes('id="transcript-live"'));
    const from = tab.messages.length;

    expect((await bulk({ action: "move", project: garden }, ids)).status).toBe(204);
    for (const row of await rows(ids)) expect(row.projectId).toBe(garden);
    const told = await tab.waitFor((m) => m.includes('id="chat-project"') && m.includes("Bulk garden"), { from });
    expect(told).toContain(`/projects/${garden}`);

    const theirs = await project("Bob's bulk project", bob);
    const refused = await bulk({ action: "move", project: theirs }, ids);
    expect([refused.status, await refused.text()]).toEqual([404, "There is no such project."]);
    for (const row of await rows(ids)) expect(row.projectId).toBe(garden);
    const nowhere = await bulk({ action: "move" }, ids);
    expect(nowhere.status).toBe(400);
    expect(await nowhere.text()).toContain("Choose where to move them");

    expect((await bulk({ action: "move", project: "" }, ids)).status).toBe(204);
    for (const row of await rows(ids)) expect(row.projectId).toBeNull();
    await tab.close();
  });

  test("delete: the chats and their messages go in one request, and their open tabs are told", async () => {
    const ids = await make(["Delete one", "Delete two", "Delete three"]);
    await t.database.db
      .insert(messages)
      .values(ids.map((chatId) => ({ chatId, role: "user" as const, content: "hi" })));
    const tab = await server.socket(`/ws?chat=${ids[1]}`);
    await tab.waitFor((m) => m.includes('id="transcript-live"'));
    const from = tab.messages.length;

    expect((await bulk({ action: "delete" }, ids)).status).toBe(204);
    expect(await rows(ids)).toEqual([]);
    expect(await t.database.db.select().from(messages).where(inArray(messages.chatId, ids))).toEqual([]);
    await tab.waitFor((m) => m.includes("This chat was deleted."), { from });
    await tab.close();
  });

  test("another person's chats are passed over (only theirs: 404), and so are temporary and archived ones; nothing of theirs changes", async () => {
    const [mine] = await make(["Mine to archive"]);
    const bobs = await make(["Bob's secret one", "Bob's secret two"], {}, bob);
    const [temporary] = await make(["A temporary chat"], { temporary: true });
    const [archived] = await make(["Already archived"], { archivedAt: new Date("2026-01-01T00:00:00Z") });

    for (const action of ["archive", "delete", "move"]) {
      const res = await bulk({ action, project: "" }, bobs);
      expect([action, res.status]).toEqual([action, 404]);
      expect(await res.text()).not.toContain("secret");
      const also = await bulk({ action, project: "" }, [temporary!, archived!]);
      expect([action, also.status]).toEqual([action, 404]);
    }
    expect((await bulk({ action: "archive" }, [mine!, ...bobs])).status).toBe(204);
    expect((await rows([mine!]))[0]!.archivedAt).toBeInstanceOf(Date);
    expect((await bulk({ action: "delete" }, [...bobs, temporary!])).status).toBe(404);
    const theirs = await rows(bobs);
    expect(theirs.map((r) => [r.archivedAt, r.projectId])).toEqual([
      [null, null],
      [null, null],
    ]);
    const [stillArchived] = await rows([archived!]);
    expect(stillArchived!.archivedAt).toEqual(new Date("2026-01-01T00:00:00Z"));
    expect(await rows([temporary!])).toHaveLength(1);
  });

  test("refused with a sentence: too many chats at once, none, an unknown action; nothing changes", async () => {
    const [one] = await make(["Within the cap"]);
    const many = [one!, ...Array.from({ length: MAX_BULK_CHATS }, () => crypto.randomUUID())];
    const res = await bulk({ action: "archive" }, many);
    expect([res.status, await res.text()]).toEqual([
      400,
      `At most ${MAX_BULK_CHATS} chats can be changed at once: choose fewer and try again.`,
    ]);
    expect((await rows([one!]))[0]!.archivedAt).toBeNull();
    const none = await bulk({ action: "archive" }, []);
    expect([none.status, await none.text()]).toEqual([400, "Choose at least one chat."]);
    const odd = await bulk({ action: "explode" }, [one!]);
    expect(odd.status).toBe(400);
    expect((await rows([one!]))[0]!.archivedAt).toBeNull();
    // Without a session: no.
    const anon = await fetch(`${server.url}/chats/bulk`, {
      method: "POST",
      headers: { Origin: server.url },
      body: new URLSearchParams({ action: "delete", ids: one! }),
    });
    expect(anon.status).toBe(401);
    expect(await rows([one!])).toHaveLength(1);
  });
});
