import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import type { MigrationMeta } from "drizzle-orm/migrator";
import type { PgDialect, PgSession } from "drizzle-orm/pg-core";
import journal from "../../drizzle/meta/_journal.json";
import { hashPassword } from "../../src/auth/password.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { migrations } from "../../src/db/migrate.ts";
import { DRIVERS, type Driver, freshDatabase, type TestDb } from "../support/db.ts";
import { parleyCommand, startParley } from "../support/process.ts";

// Each test here starts processes that open the embedded database (Postgres in WASM: seconds each
// on a busy 2-core machine, several per test); npm test's 60 s per test was their whole margin,
// and a clean-clone run with other work on the machine went past it. A budget for the work, not
// a wait: nothing here sleeps toward it.
setDefaultTimeout(180_000);

/**
 * Upgrades as an operator meets them: a database left by an earlier Parley, then the current one
 * started on it as a real process. "The previous release" is every migration but the newest: the
 * schema the build before the newest migration left behind.
 */
const previous = migrations.slice(0, -1);
const added = journal.entries.slice(previous.length);
const previousTag = journal.entries[previous.length - 1]!.tag;
/** Tables the newer migrations create, read from their SQL. */
const newTables = migrations
  .slice(previous.length)
  .flatMap((m) => m.sql.flatMap((s) => [...s.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?"(?:public"\.")?(\w+)"/g)]))
  .map((match) => match[1]!);

const PASSWORD = "an old and long password";
const REFUSAL =
  "parley: The database was migrated by a newer version of Parley than this one; run that version (or restore a backup made for this one) instead of downgrading.\n";

const folders: string[] = [];
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true });
});

test("the embedded migrations are drizzle-kit's journal, in order", () => {
  expect(migrations.map((m) => m.folderMillis)).toEqual(journal.entries.map((e) => e.when));
  expect(added.length).toBeGreaterThan(0);
});

/** What the release before had embedded, applied by drizzle's migrator as that release applied it. */
async function migrateAsReleased(database: Database, list: MigrationMeta[]) {
  const { dialect, session } = database.db as unknown as { dialect: PgDialect; session: PgSession };
  await dialect.migrate(list, session, {
    migrationsFolder: "drizzle",
    migrationsSchema: "drizzle",
    migrationsTable: "__drizzle_migrations",
  });
}

/**
 * A person, a chat with a finished exchange and one whose answer failed, written in the SQL of the
 * previous schema (the current repositories write the current one).
 */
async function seed(database: Database) {
  const [user] = await database.rows<{ id: string }>(
    sql`insert into users (id, username, password_hash, is_admin, model)
        values (${Bun.randomUUIDv7()}, 'olga', ${await hashPassword(PASSWORD)}, true, 'old/model')
        returning id`,
  );
  const chat = async (title: string, question: string, answer: Record<string, unknown>) => {
    const chatId = Bun.randomUUIDv7();
    const questionId = Bun.randomUUIDv7();
    await database.rows(
      sql`insert into chats (id, user_id, title, model, system_prompt, temperature)
          values (${chatId}, ${user!.id}, ${title}, 'old/model', 'Be brief.', 0.5)`,
    );
    await database.rows(
      sql`insert into messages (id, chat_id, role, content, status)
          values (${questionId}, ${chatId}, 'user', ${question}, 'complete')`,
    );
    await database.rows(
      sql`insert into messages (id, chat_id, parent_id, role, content, status, model, error, prompt_tokens,
            completion_tokens, cost, finish_reason, finished_at)
          values (${Bun.randomUUIDv7()}, ${chatId}, ${questionId}, 'assistant', ${answer.content as string},
            ${answer.status as string}, 'old/model', ${(answer.error as string) ?? null}, 12, 34, 0.00042,
            ${(answer.finishReason as string) ?? null}, now())`,
    );
    return chatId;
  };
  const bread = await chat("Bread from before", "How do I bake rye bread?", {
    content: "Mix **rye flour** with a sourdough starter.",
    status: "complete",
    finishReason: "stop",
  });
  const failed = await chat("A failed one", "Is this kept?", {
    content: "Half an ans",
    status: "error",
    error: "The upstream dropped the connection.",
  });
  return { bread, failed };
}

/** Everything seeded, as plain rows, in a fixed order: equal before and after means nothing was lost or changed. */
async function seeded(database: Database) {
  return {
    users: await database.rows(sql`select id, username, password_hash, is_admin, model from users order by id`),
    chats: await database.rows(
      sql`select id, user_id, title, model, system_prompt, temperature, updated_at::text from chats order by id`,
    ),
    messages: await database.rows(
      sql`select id, chat_id, parent_id, role, content, status, model, error, prompt_tokens, completion_tokens,
            cost::text, finish_reason, finished_at::text from messages order by id`,
    ),
  };
}

async function bookkeeping(database: Database) {
  return database.rows<{ hash: string; created_at: string }>(
    sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`,
  );
}

async function tableExists(database: Database, name: string) {
  const [row] = await database.rows<{ ok: boolean }>(sql`select to_regclass(${`public.${name}`}) is not null as ok`);
  return row!.ok;
}

/**
 * The database a process is pointed at: Postgres by URL; PGlite as a data directory on disk made
 * from this test's in-memory one (a real process cannot open `memory://`).
 */
async function handOver(t: TestDb): Promise<{ env: Record<string, string>; reopen(): Promise<Database> }> {
  if (t.driver === "postgres") {
    await t.database.close();
    return {
      env: { DATABASE_URL: t.url! },
      reopen: () => openDatabase({ url: t.url, dataDir: "" }),
    };
  }
  const dump = await t.database.pglite!.dumpDataDir("none");
  await t.database.close();
  const dir = mkdtempSync(join(tmpdir(), "parley-upgrade-"));
  folders.push(dir);
  const dataDir = join(dir, "data");
  await (await openDatabase({ url: undefined, dataDir, loadDataDir: dump })).close();
  return { env: { DATA_DIR: dataDir }, reopen: () => openDatabase({ url: undefined, dataDir }) };
}

async function signIn(base: string): Promise<string> {
  const res = await fetch(`${base}/signin`, {
    method: "POST",
    headers: { origin: base },
    body: new URLSearchParams({ username: "olga", password: PASSWORD }),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  return /parley_session=[^;]+/.exec(res.headers.get("set-cookie") ?? "")![0];
}

/**
 * Runs a command that should stop on its own; one that serves instead is killed after 40 s, so the
 * test fails on its exit code rather than hanging until the test's timeout.
 */
async function runToEnd(args: string[], env: Record<string, string>) {
  const proc = Bun.spawn(parleyCommand(args), {
    env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    timeout: 40_000,
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

const env = (more: Record<string, string>) => ({ OPENROUTER_API_KEY: "unused", HOST: "127.0.0.1", ...more });

for (const driver of DRIVERS as Driver[]) {
  describe(`upgrades [${driver}]`, () => {
    test(`a database made by the release before ${added.map((e) => e.tag).join(", ")} (through ${previousTag}) is migrated at start, its chats intact and shown`, async () => {
      const t = await freshDatabase(driver, { migrated: false });
      try {
        await migrateAsReleased(t.database, previous);
        for (const table of newTables) expect(await tableExists(t.database, table)).toBe(false);
        const ids = await seed(t.database);
        const before = await seeded(t.database);
        expect(await bookkeeping(t.database)).toHaveLength(previous.length);
        const db = await handOver(t);

        const parley = await startParley(env(db.env));
        try {
          const ready = parley.logs.find((l) => l.event === "database ready");
          expect(ready?.migrationsApplied).toBe(migrations.length - previous.length);
          const cookie = await signIn(parley.url);
          const home = await (await fetch(`${parley.url}/`, { headers: { cookie } })).text();
          expect(home).toContain("Bread from before");
          expect(home).toContain("A failed one");
          const page = await (await fetch(`${parley.url}/chats/${ids.bread}`, { headers: { cookie } })).text();
          expect(page).toContain("How do I bake rye bread?");
          expect(page).toContain("<strong>rye flour</strong>");
          const failed = await (await fetch(`${parley.url}/chats/${ids.failed}`, { headers: { cookie } })).text();
          expect(failed).toContain("Half an ans");
          expect(failed).toContain("The upstream dropped the connection.");
        } finally {
          expect(await parley.stop()).toBe(0);
        }

        const after = await db.reopen();
        try {
          expect(await seeded(after)).toEqual(before);
          for (const table of newTables) expect(await tableExists(after, table)).toBe(true);
          // Each migration applied once, in order: none skipped, none run twice.
          const applied = await bookkeeping(after);
          expect(applied.map((r) => r.hash)).toEqual(migrations.map((m) => m.hash));
          expect(applied.map((r) => Number(r.created_at))).toEqual(migrations.map((m) => m.folderMillis));
        } finally {
          await after.close();
        }
      } finally {
        await t.close();
      }
    });

    test("a database migrated by a newer Parley stops `parley serve` and `parley migrate` with one sentence, untouched", async () => {
      const t = await freshDatabase(driver);
      try {
        await seed(t.database);
        const future = migrations.at(-1)!.folderMillis + 1000;
        await t.database.rows(
          sql`insert into drizzle.__drizzle_migrations (hash, created_at) values ('from-a-newer-parley', ${future})`,
        );
        const before = { data: await seeded(t.database), migrations: await bookkeeping(t.database) };
        const db = await handOver(t);

        for (const command of ["serve", "migrate"]) {
          const run = await runToEnd([command], env({ ...db.env, PORT: "0" }));
          expect({ command, code: run.code, stderr: run.stderr }).toEqual({ command, code: 1, stderr: REFUSAL });
          expect(run.stdout).not.toContain('"listening"');
        }

        const after = await db.reopen();
        try {
          expect({ data: await seeded(after), migrations: await bookkeeping(after) }).toEqual(before);
        } finally {
          await after.close();
        }
      } finally {
        await t.close();
      }
    });
  });
}
