import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { migrations } from "../../src/db/migrate.ts";
import { DRIVERS, freshDatabase, migrateTo } from "../support/db.ts";

/** 0016_teams: answers paid for before it become usage rows; the audit log refuses changes. */
const TEAMS = migrations.findIndex((m) => m.sql.some((s) => s.includes('CREATE TABLE "usage"')));

for (const driver of DRIVERS) {
  describe(`the teams migration [${driver}]`, () => {
    test("each answer that reported usage before it becomes a settled usage row of its owner; questions and unpaid answers do not", async () => {
      expect(TEAMS).toBeGreaterThan(0);
      const t = await freshDatabase(driver, { migrated: false });
      try {
        await migrateTo(t.database, TEAMS);
        const user = Bun.randomUUIDv7();
        const chat = Bun.randomUUIDv7();
        const [q, paid, free, other] = [0, 1, 2, 3].map(() => Bun.randomUUIDv7());
        await t.database.rows(sql`insert into users (id, username, password_hash) values (${user}, 'ida', 'x')`);
        await t.database.rows(sql`insert into chats (id, user_id, model) values (${chat}, ${user}, 'chat/model')`);
        await t.database.rows(
          sql`insert into messages (id, chat_id, role, content) values (${q}, ${chat}, 'user', 'hi')`,
        );
        await t.database.rows(
          sql`insert into messages (id, chat_id, parent_id, role, content, model, prompt_tokens, completion_tokens, cost, created_at, finished_at)
              values (${paid}, ${chat}, ${q}, 'assistant', 'hello', 'a/model', 10, 20, 0.0025, '2026-11-02T10:00:00Z', '2026-11-02T10:00:05Z')`,
        );
        // A stopped answer OpenRouter reported tokens for but no cost: counted, at $0.
        await t.database.rows(
          sql`insert into messages (id, chat_id, parent_id, role, content, status, prompt_tokens, completion_tokens)
              values (${free}, ${chat}, ${q}, 'assistant', 'hel', 'stopped', 10, 2)`,
        );
        // An answer that failed before any usage: nothing was paid.
        await t.database.rows(
          sql`insert into messages (id, chat_id, parent_id, role, content, status) values (${other}, ${chat}, ${q}, 'assistant', '', 'error')`,
        );
        await migrateTo(t.database, migrations.length);
        const rows = await t.database.rows<Record<string, unknown>>(
          sql`select id, user_id, kind, model, message_id, estimate::float8 as estimate, prompt_tokens, completion_tokens,
                cost::float8 as cost, created_at = '2026-11-02T10:00:00Z' as at_creation, settled_at is not null as settled
              from usage order by id`,
        );
        expect(rows).toEqual([
          {
            id: paid,
            user_id: user,
            kind: "answer",
            model: "a/model",
            message_id: paid,
            estimate: 0.0025,
            prompt_tokens: 10,
            completion_tokens: 20,
            cost: 0.0025,
            at_creation: true,
            settled: true,
          },
          {
            id: free,
            user_id: user,
            kind: "answer",
            model: "chat/model",
            message_id: free,
            estimate: 0,
            prompt_tokens: 10,
            completion_tokens: 2,
            cost: 0,
            at_creation: false,
            settled: true,
          },
        ]);
      } finally {
        await t.close();
      }
    });

    test("an audit entry cannot be changed, but deleting its actor keeps it with the actor's name", async () => {
      const t = await freshDatabase(driver);
      try {
        const user = Bun.randomUUIDv7();
        const entry = Bun.randomUUIDv7();
        await t.database.rows(sql`insert into users (id, username, password_hash) values (${user}, 'ida', 'x')`);
        await t.database.rows(
          sql`insert into audit_log (id, actor_id, actor_name, action, target) values (${entry}, ${user}, 'ida', 'signin', 'ida')`,
        );
        const refusal = await t.database
          .rows(sql`update audit_log set action = 'nothing happened' where id = ${entry}`)
          .then(
            () => null,
            (e: Error) => String((e.cause as Error | undefined)?.message ?? e.message),
          );
        expect(refusal).toBe("the audit log is append-only");
        await t.database.rows(sql`delete from users where id = ${user}`);
        expect(
          await t.database.rows(sql`select actor_id, actor_name, action from audit_log where id = ${entry}`),
        ).toEqual([{ actor_id: null, actor_name: "ida", action: "signin" }]);
      } finally {
        await t.close();
      }
    });
  });
}
