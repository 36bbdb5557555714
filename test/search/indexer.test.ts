import { describe, expect, test } from "bun:test";
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.ts";
import { migrations } from "../../src/db/migrate.ts";
import { chats, messages, users } from "../../src/db/schema.ts";
import { silentLogger } from "../../src/log.ts";
import { SearchIndexer } from "../../src/search/indexer.ts";
import { indexWaiting } from "../../src/search/repo.ts";
import { createSearchService } from "../../src/search/service.ts";
import { DRIVERS, eachDriver, freshDatabase, migrateTo } from "../support/db.ts";
import { until } from "../support/process.ts";

/** Whether each of these messages is indexed, by id. */
async function indexed(database: Database, ids: string[]): Promise<Record<string, boolean>> {
  const rows = await database.rows<{ id: string; done: boolean }>(
    sql`select id, search is not null as done from messages where id in ${ids}`,
  );
  return Object.fromEntries(rows.map((r) => [r.id, r.done]));
}

/** Waits, as a reader would, until every one of these messages is indexed. */
async function allIndexed(database: Database, ids: string[]): Promise<void> {
  await until(
    async () => Object.values(await indexed(database, ids)).filter(Boolean).length,
    (n) => n === ids.length,
    `${ids.length} messages indexed`,
  );
}

eachDriver("indexing for search after the save", (t) => {
  const person = async (name: string) => {
    const [user] = await t.database.db.insert(users).values({ username: name, passwordHash: "x" }).returning();
    const [chat] = await t.database.db.insert(chats).values({ userId: user!.id, title: "t", model: "m" }).returning();
    return { userId: user!.id, chatId: chat!.id };
  };
  /** An answer written and ended, as an answer's end saves it (not indexed by that statement). */
  const answer = async (chatId: string, content: string, end = true) => {
    const id = Bun.randomUUIDv7();
    await t.database.db.insert(messages).values({ id, chatId, role: "assistant", content: "", status: "streaming" });
    if (end) await t.database.rows(sql`update messages set content = ${content}, status = 'complete' where id = ${id}`);
    return id;
  };

  test("a message stored finished (a question, an import) is indexed by its insert; an answer waits for the indexer", async () => {
    const { chatId } = await person("ada");
    const question = Bun.randomUUIDv7();
    await t.database.db.insert(messages).values({ id: question, chatId, role: "user", content: "how do moles dig?" });
    const ended = await answer(chatId, "with their front paws");
    expect(await indexed(t.database, [question, ended])).toEqual({ [question]: true, [ended]: false });
  });

  test("the indexer indexes every ended answer, in several statements, and never one still being written", async () => {
    const { chatId } = await person("bo");
    const done: string[] = [];
    for (let i = 0; i < 230; i++) done.push(await answer(chatId, `finished answer number ${i}`));
    const live = await answer(chatId, "", false);
    const indexer = new SearchIndexer(t.database, silentLogger);
    indexer.soon();
    await allIndexed(t.database, done);
    await indexer.stop();
    expect(await indexed(t.database, [live])).toEqual({ [live]: false });
  });

  test("once stopped (at shutdown) the indexer starts no statement; what waits is left for the next start", async () => {
    const { chatId } = await person("cal");
    const waiting: string[] = [];
    for (let i = 0; i < 30; i++) waiting.push(await answer(chatId, `left for later ${i}`));
    const indexer = new SearchIndexer(t.database, silentLogger);
    indexer.soon();
    await indexer.stop();
    indexer.soon();
    await Bun.sleep(50);
    expect(Object.values(await indexed(t.database, waiting)).filter(Boolean)).toHaveLength(0);
    const next = new SearchIndexer(t.database, silentLogger);
    next.soon();
    await allIndexed(t.database, waiting);
    await next.stop();
  });

  test("a search finds what the indexer has not reached yet, indexing the searcher's answers only", async () => {
    const mine = await person("bea");
    const theirs = await person("cy");
    const [a, b] = [
      await answer(mine.chatId, "wombats dig burrows"),
      await answer(theirs.chatId, "wombats sleep all day"),
    ];
    const found = await createSearchService(t.database).search(mine.userId, "wombats");
    expect(found.map((hit) => hit.chatId)).toEqual([mine.chatId]);
    expect(await indexed(t.database, [a, b])).toEqual({ [a]: true, [b]: false });
  });

  test("text changed after it was indexed is indexed again: its old words stop matching, its new ones match", async () => {
    const { userId, chatId } = await person("dee");
    const id = await answer(chatId, "an answer about otters");
    const search = createSearchService(t.database);
    expect((await search.search(userId, "otters")).map((hit) => hit.chatId)).toEqual([chatId]);
    await t.database.rows(sql`update messages set content = 'an answer about herons' where id = ${id}`);
    expect(await indexed(t.database, [id])).toEqual({ [id]: false });
    expect(await search.search(userId, "otters")).toEqual([]);
    expect((await search.search(userId, "herons")).map((hit) => hit.chatId)).toEqual([chatId]);
  });
});

/** 0021: search became a plain column; what 0004's generated column computed stays. */
const INDEXED_LATER = migrations.findIndex((m) => m.sql.some((s) => s.includes('"messages_search_stale"')));

for (const driver of DRIVERS) {
  describe(`the migration to indexing after the save [${driver}]`, () => {
    test("messages indexed before it stay indexed and found; a streaming one stays unindexed", async () => {
      expect(INDEXED_LATER).toBeGreaterThan(0);
      const t = await freshDatabase(driver, { migrated: false });
      try {
        await migrateTo(t.database, INDEXED_LATER);
        const [user, chat, old, live] = [0, 1, 2, 3].map(() => Bun.randomUUIDv7()) as [string, string, string, string];
        const run = (q: SQL) => t.database.rows(q);
        await run(sql`insert into users (id, username, password_hash) values (${user}, 'eve', 'x')`);
        await run(sql`insert into chats (id, user_id, model) values (${chat}, ${user}, 'm')`);
        await run(sql`insert into messages (id, chat_id, role, content) values (${old}, ${chat}, 'user', 'capybaras')`);
        await run(
          sql`insert into messages (id, chat_id, role, content, status) values (${live}, ${chat}, 'assistant', 'half', 'streaming')`,
        );
        await migrateTo(t.database, migrations.length);
        expect(await indexed(t.database, [old, live])).toEqual({ [old]: true, [live]: false });
        const waiting = await t.database.rows(
          sql`select id from messages where search is null and status <> 'streaming'`,
        );
        expect(waiting).toEqual([]);
      } finally {
        await t.close();
      }
    });
  });
}

/** 0022: what the parser took for HTML is indexed too; messages with angle brackets wait to be indexed again. */
const INSIDE_TAGS = migrations.findIndex((m) => m.sql.some((s) => s.includes("translate(\"title\", '<>'")));

for (const driver of DRIVERS) {
  describe(`the migration to words inside tags [${driver}]`, () => {
    test("titles are indexed again at once, messages with angle brackets by the indexer; the rest stay as they were", async () => {
      expect(INSIDE_TAGS).toBeGreaterThan(0);
      const t = await freshDatabase(driver, { migrated: false });
      try {
        await migrateTo(t.database, INSIDE_TAGS);
        const [user, chat, html, plain] = [0, 1, 2, 3].map(() => Bun.randomUUIDv7()) as [
          string,
          string,
          string,
          string,
        ];
        const run = (q: SQL) => t.database.rows(q);
        await run(sql`insert into users (id, username, password_hash) values (${user}, 'eve', 'x')`);
        await run(
          sql`insert into chats (id, user_id, model, title) values (${chat}, ${user}, 'm', 'Fix <div class="kestrel">')`,
        );
        await run(
          sql`insert into messages (id, chat_id, role, content) values (${html}, ${chat}, 'user', '<script>alert(''osprey'')</script>')`,
        );
        await run(
          sql`insert into messages (id, chat_id, role, content) values (${plain}, ${chat}, 'user', 'capybaras')`,
        );
        const matches = async (table: "chats" | "messages", id: string, word: string) => {
          const [row] = await t.database.rows<{ hit: boolean }>(
            sql`select coalesce(search @@ to_tsquery('english', ${word}), false) as hit from ${sql.identifier(table)} where id = ${id}`,
          );
          return row!.hit;
        };
        expect([await matches("chats", chat, "kestrel"), await matches("messages", html, "osprey")]).toEqual([
          false,
          false,
        ]);
        await migrateTo(t.database, migrations.length);
        expect(await matches("chats", chat, "kestrel")).toBe(true);
        expect(await indexed(t.database, [html, plain])).toEqual({ [html]: false, [plain]: true });
        await indexWaiting(t.database, { most: 100 });
        expect(await matches("messages", html, "osprey")).toBe(true);
        expect(await matches("messages", plain, "capybara")).toBe(true);
      } finally {
        await t.close();
      }
    });
  });
}
