import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats } from "../../src/db/schema.ts";
import { fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const fake = startFakeUpstream();
afterAll(() => fake.stop());

/** The chat ids in the sidebar's Pinned list and in the rest of it, in order. */
function sidebar(html: string) {
  const nav = html.slice(html.indexOf('id="chat-nav"'));
  const ids = (part: string) => [...part.matchAll(/id="chat-item-([0-9a-f-]+)"/g)].map((m) => m[1]!);
  const pinnedEnd = nav.indexOf('id="chat-nav-recent"');
  const hasPinned = nav.includes('id="chat-nav-pinned"');
  return {
    pinned: hasPinned ? ids(pinnedEnd < 0 ? nav : nav.slice(0, pinnedEnd)) : [],
    rest: hasPinned ? (pinnedEnd < 0 ? [] : ids(nav.slice(pinnedEnd))) : ids(nav),
  };
}

eachDriver("pinned and archived chats", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const make = async (title: string, minutesAgo: number) => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({
        userId: server.user.id,
        title,
        model: "fake/fast",
        updatedAt: new Date(Date.now() - minutesAgo * 60_000),
      })
      .returning();
    return chat!.id;
  };
  const post = (path: string, form: Record<string, string>) =>
    server.fetch(path, { method: "POST", body: new URLSearchParams(form), redirect: "manual" });
  const home = async () => sidebar(await (await server.fetch("/", { headers: { accept: "text/html" } })).text());

  test("a pinned chat heads the list, the most recently pinned first; unpinned, it goes back to its place", async () => {
    const a = await make("Pin me first", 30);
    const b = await make("Pin me second", 20);
    const c = await make("Left alone", 10);
    for (const id of [a, b]) {
      const res = await post(`/chats/${id}/pin`, { pinned: "true" });
      expect([res.status, res.headers.get("location")]).toEqual([303, `/chats/${id}`]);
    }
    let list = await home();
    expect(list.pinned).toEqual([b, a]);
    expect(list.rest).toContain(c);
    expect(list.rest).not.toContain(a);
    // The chat's own page offers Unpin for a pinned chat.
    const page = await (await server.fetch(`/chats/${a}`)).text();
    expect(page).toContain('aria-pressed="true"');
    expect(page).toContain("Unpin");

    await post(`/chats/${a}/pin`, { pinned: "false" });
    list = await home();
    expect(list.pinned).toEqual([b]);
    expect(list.rest.indexOf(a)).toBeGreaterThan(list.rest.indexOf(c));
  });

  test("an archived chat leaves the list and its tabs' lists, stays searchable, is on the Archive page, and comes back", async () => {
    const id = await make("Quarterly walrus census", 5);
    const ws = await server.socket("/ws");
    await ws.waitFor((m) => m.includes('id="chat-nav"') && m.includes(id));
    const from = ws.messages.length;

    const res = await post(`/chats/${id}/archive`, { archived: "true" });
    expect([res.status, res.headers.get("location")]).toEqual([303, "/"]);
    expect((await home()).rest).not.toContain(id);
    // The person's other tabs hear the list without it.
    await ws.waitFor((m) => m.includes('id="chat-nav"') && !m.includes(id), { from });
    const [row] = await t.database.db.select().from(chats).where(eq(chats.id, id));
    expect(row!.archivedAt).toBeInstanceOf(Date);

    const found = await (await server.fetch("/search?q=walrus", { headers: { "hx-request": "true" } })).text();
    expect(found).toContain(`/chats/${id}`);
    // Marked as archived, in words.
    expect(found).toMatch(/Quarterly[\s\S]*?>Archived</);
    const archive = await (await server.fetch("/archive")).text();
    expect(archive).toContain("Quarterly walrus census");
    // Its own page says so, with Restore.
    const page = await (await server.fetch(`/chats/${id}`)).text();
    expect(page).toContain('id="archived-notice"');

    const restored = await post(`/chats/${id}/archive`, { archived: "false", back: "archive" });
    expect([restored.status, restored.headers.get("location")]).toEqual([303, "/archive"]);
    expect((await home()).rest[0]).toBe(id);
    expect(await (await server.fetch("/archive")).text()).not.toContain("Quarterly walrus census");
    const again = await (await server.fetch("/search?q=walrus", { headers: { "hx-request": "true" } })).text();
    expect(again).toContain(`/chats/${id}`);
    expect(again).not.toContain(">Archived<");
    await ws.close();
  });

  test("deleted from the Archive page, a chat is gone; another person can neither archive, pin nor delete it", async () => {
    const id = await make("Old notes", 1);
    await post(`/chats/${id}/archive`, { archived: "true" });
    const bob = await server.signUp("organise-bob");
    for (const path of [`/chats/${id}/pin`, `/chats/${id}/archive`, `/archive/${id}/delete`]) {
      const res = await bob.fetch(path, { method: "POST", body: new URLSearchParams({}), redirect: "manual" });
      expect([path, res.status]).toEqual([path, 404]);
    }
    expect(await (await bob.fetch("/archive")).text()).not.toContain("Old notes");
    const [still] = await t.database.db.select().from(chats).where(eq(chats.id, id));
    expect([still!.pinnedAt, still!.archivedAt === null]).toEqual([null, false]);

    const res = await post(`/archive/${id}/delete`, {});
    expect([res.status, res.headers.get("location")]).toEqual([303, "/archive"]);
    expect(await t.database.db.select().from(chats).where(eq(chats.id, id))).toEqual([]);
  });

  test("a temporary chat is neither pinned nor archived, with a sentence", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Passing", model: "fake/fast", temporary: true })
      .returning();
    for (const action of ["pin", "archive"]) {
      const res = await post(`/chats/${chat!.id}/${action}`, { [action === "pin" ? "pinned" : "archived"]: "true" });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("temporary chat");
    }
  });

  test("an export says which chats are pinned and archived, and an import keeps them so; a temporary chat is not in it", async () => {
    const pinned = await make("Export me pinned", 3);
    const archived = await make("Export me archived", 2);
    const plain = await make("Export me plain", 1);
    await post(`/chats/${pinned}/pin`, { pinned: "true" });
    await post(`/chats/${archived}/archive`, { archived: "true" });
    const [temporary] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Export me never", model: "fake/fast", temporary: true })
      .returning();
    const rows = await t.database.db.select().from(chats).where(eq(chats.userId, server.user.id));
    const row = (id: string) => rows.find((c) => c.id === id)!;

    const file = await (await server.fetch("/account/export.json")).text();
    const doc = JSON.parse(file) as { chats: { title: string; pinnedAt: string | null; archivedAt: string | null }[] };
    const exported = (title: string) => doc.chats.find((c) => c.title === title)!;
    expect(exported("Export me pinned").pinnedAt).toBe(row(pinned).pinnedAt!.toISOString());
    expect(exported("Export me pinned").archivedAt).toBeNull();
    expect(exported("Export me archived").archivedAt).toBe(row(archived).archivedAt!.toISOString());
    expect([exported("Export me plain").pinnedAt, exported("Export me plain").archivedAt]).toEqual([null, null]);
    expect(file).not.toContain("Export me never");
    expect((await server.fetch(`/chats/${temporary!.id}/export.json`)).status).toBe(404);
    expect(plain).toBeString();

    // Into another account: pinned heads its list, archived is on its Archive page only.
    const other = await server.signUp("imports-organised");
    const form = new FormData();
    form.append("file", new File([file], "export.json", { type: "application/json" }));
    expect((await other.fetch("/account/import", { method: "POST", body: form, redirect: "manual" })).status).toBe(303);
    const theirs = await t.database.db.select().from(chats).where(eq(chats.userId, other.user.id));
    const imported = (title: string) => theirs.find((c) => c.title === title)!;
    expect(imported("Export me pinned").pinnedAt).toEqual(row(pinned).pinnedAt);
    expect(imported("Export me archived").archivedAt).toEqual(row(archived).archivedAt);
    expect([imported("Export me plain").pinnedAt, imported("Export me plain").archivedAt]).toEqual([null, null]);
    const list = sidebar(await (await other.fetch("/", { headers: { accept: "text/html" } })).text());
    // (The file holds the chats the tests before this one pinned too.)
    expect(list.pinned).toContain(imported("Export me pinned").id);
    expect(list.rest).not.toContain(imported("Export me pinned").id);
    expect(list.rest).not.toContain(imported("Export me archived").id);
    expect(await (await other.fetch("/archive")).text()).toContain("Export me archived");
  });
});
