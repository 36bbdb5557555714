import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { CHAT_LIST_PAGE } from "../../src/chat/repos/chats.ts";
import { chats } from "../../src/db/schema.ts";
import { fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

const fake = startFakeUpstream();
afterAll(() => fake.stop());

/** The chats a page or fragment lists, in order, and the chat its next page follows. */
function listed(html: string) {
  const ids = [...html.matchAll(/id="chat-item-([0-9a-f-]+)"/g)].map((m) => m[1]!);
  const more = /hx-get="\/chats\/list\?after=([0-9a-f-]+)"/.exec(html)?.[1];
  return { ids, more };
}

eachDriver("the chat list, page by page", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  test("the page lists the first chats; scrolling loads the rest once each, newest first, ties included", async () => {
    const total = CHAT_LIST_PAGE * 2 + 7;
    // Groups of three share the very same time, to the microsecond: the order then goes by id.
    const base = Date.parse("2026-06-01T00:00:00Z");
    const rows = Array.from({ length: total }, (_, i) => ({
      userId: server.user.id,
      title: `Chat ${i}`,
      model: "fake/fast",
      updatedAt: new Date(base + Math.floor(i / 3) * 60_000),
    }));
    const made = await t.database.db.insert(chats).values(rows).returning({ id: chats.id });
    await t.database.db.execute(
      sql`update chats set updated_at = updated_at + interval '123 microseconds' where user_id = ${server.user.id}`,
    );
    // Archived and temporary chats are not listed at all.
    await t.database.db.insert(chats).values([
      { userId: server.user.id, title: "Archived", model: "m", archivedAt: new Date(), updatedAt: new Date() },
      { userId: server.user.id, title: "Temporary", model: "m", temporary: true, updatedAt: new Date() },
    ]);
    const expected = (
      await t.database.rows<{ id: string }>(
        sql`select id from chats where user_id = ${server.user.id} and archived_at is null and not temporary
            order by updated_at desc, id desc`,
      )
    ).map((r) => r.id);
    expect(expected).toHaveLength(made.length);

    const page = await (await server.fetch("/", { headers: { accept: "text/html" } })).text();
    const first = listed(page);
    expect(first.ids).toEqual(expected.slice(0, CHAT_LIST_PAGE));
    expect(first.more).toBe(expected[CHAT_LIST_PAGE - 1]);

    const seen = [...first.ids];
    let after = first.more;
    while (after) {
      const res = await server.fetch(`/chats/list?after=${after}`, { headers: { "hx-request": "true" } });
      expect(res.status).toBe(200);
      const next = listed(await res.text());
      seen.push(...next.ids);
      after = next.more;
    }
    expect(seen).toEqual(expected);
  });

  test("another person's chat, or no chat at all, to follow gives an empty page, never their list", async () => {
    const other = await server.signUp("list-other");
    const [theirs] = await t.database.db
      .insert(chats)
      .values({ userId: other.user.id, title: "Theirs", model: "m" })
      .returning();
    for (const after of [theirs!.id, "not-an-id", "", crypto.randomUUID()]) {
      const res = await server.fetch(`/chats/list?after=${encodeURIComponent(after)}`);
      expect(res.status).toBe(200);
      expect(listed(await res.text())).toEqual({ ids: [], more: undefined });
    }
    // Signed out, the list is not served.
    const anonymous = await fetch(`${server.url}/chats/list?after=${theirs!.id}`, { redirect: "manual" });
    expect(anonymous.status).not.toBe(200);
  });
});
