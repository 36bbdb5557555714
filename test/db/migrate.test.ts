import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { fromPostgresClient } from "../../src/db/client.ts";
import { migrate, migrations } from "../../src/db/migrate.ts";
import { DRIVERS, freshDatabase } from "../support/db.ts";

async function tables(database: Awaited<ReturnType<typeof freshDatabase>>["database"]) {
  const rows = await database.rows<{ name: string }>(
    sql`select table_schema || '.' || table_name as name from information_schema.tables
        where table_schema in ('public', 'drizzle') order by 1`,
  );
  return rows.map((r) => r.name);
}

for (const driver of DRIVERS) {
  describe(`migrations [${driver}]`, () => {
    test("an empty database gets every embedded migration, and a second run applies none", async () => {
      const t = await freshDatabase(driver, { migrated: false });
      try {
        expect(await tables(t.database)).toEqual([]);
        const first = await migrate(t.database, t.url);
        expect(first).toEqual({ applied: migrations.length, total: migrations.length });
        expect(await tables(t.database)).toEqual([
          "drizzle.__drizzle_migrations",
          "public.api_keys",
          "public.audit_log",
          "public.bus_events",
          "public.chat_mcp_servers",
          "public.chats",
          "public.favourite_models",
          "public.files",
          "public.group_members",
          "public.groups",
          "public.identities",
          "public.mcp_servers",
          "public.message_annotations",
          "public.message_files",
          "public.messages",
          "public.presets",
          "public.project_files",
          "public.projects",
          "public.sessions",
          "public.share_files",
          "public.shares",
          "public.site_settings",
          "public.usage",
          "public.users",
        ]);
        const second = await migrate(t.database, t.url);
        expect(second.applied).toBe(0);
        const [count] = await t.database.rows<{ n: number }>(
          sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
        );
        expect(count?.n).toBe(migrations.length);
      } finally {
        await t.close();
      }
    });

    test("a database migrated by a newer Parley is refused, untouched", async () => {
      const t = await freshDatabase(driver);
      try {
        const future = (migrations.at(-1)?.folderMillis ?? 0) + 1000;
        await t.database.rows(
          sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('future', ${future})`,
        );
        await expect(migrate(t.database, t.url)).rejects.toThrow(/migrated by a newer version of Parley/);
      } finally {
        await t.close();
      }
    });
  });
}

if (DRIVERS.includes("postgres")) {
  test("several instances migrating one empty Postgres at once all succeed, and migrate it once", async () => {
    const t = await freshDatabase("postgres", { migrated: false });
    const clients = Array.from({ length: 4 }, () => postgres(t.url!, { max: 1, onnotice: () => {} }));
    try {
      const results = await Promise.all(clients.map((c) => migrate(fromPostgresClient(c), t.url)));
      expect(results.map((r) => r.applied).sort()).toEqual([0, 0, 0, migrations.length]);
      const [count] = await t.database.rows<{ n: number }>(
        sql`select count(*)::int as n from drizzle.__drizzle_migrations`,
      );
      expect(count?.n).toBe(migrations.length);
    } finally {
      await Promise.all(clients.map((c) => c.end()));
      await t.close();
    }
  });
}
