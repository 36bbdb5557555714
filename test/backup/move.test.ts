import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { copyPlan, SKIPPED_TABLES } from "../../src/backup/move.ts";
import { type Database, fromPostgresClient, openDatabase } from "../../src/db/client.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { file as aFile, png } from "../files/samples.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { createDatabase } from "../support/postgres.ts";
import { type Parley, runParley, startParley, until } from "../support/process.ts";
import { finished, openSocket } from "../support/ws.ts";
import { client, oneSentence, PASSWORDS, pageMessages, signIn, startChat, tableJson } from "./support.ts";

// Each test here starts processes that open the embedded database (Postgres in WASM: seconds each
// on a busy 2-core machine, several per test); npm test's 60 s per test was their whole margin,
// and a clean-clone run with other work on the machine went past it. A budget for the work, not
// a wait: nothing here sleeps toward it.
setDefaultTimeout(180_000);

describe("what parley move-data copies", () => {
  for (const driver of DRIVERS) {
    test(`every table a migrated database has is copied or skipped on purpose, and every column not copied is computed [${driver}]`, async () => {
      const t = await freshDatabase(driver);
      try {
        const plan = copyPlan();
        const tables = await t.database.rows<{ name: string }>(
          sql`select table_name as name from information_schema.tables where table_schema = 'public' order by 1`,
        );
        expect(tables.map((r) => r.name).sort()).toEqual(
          [...plan.map((p) => p.name), ...Object.keys(SKIPPED_TABLES)].sort(),
        );
        const columns = await t.database.rows<{ t: string; c: string; generated: string; def: string | null }>(
          sql`select table_name as t, column_name as c, is_generated as generated, column_default as def
              from information_schema.columns where table_schema = 'public'`,
        );
        // Tables whose rows a trigger completes as they are inserted (files' search vector, 0012).
        const triggered = await t.database.rows<{ t: string }>(
          sql`select distinct event_object_table as t from information_schema.triggers
              where trigger_schema = 'public' and event_manipulation = 'INSERT' and action_timing = 'BEFORE'`,
        );
        for (const table of plan) {
          const own = columns.filter((c) => c.t === table.name);
          const skipped = own.filter((c) => !table.columns.includes(c.c));
          // Left out only when the target computes it: generated (chats' search vectors of
          // migration 0004), or set by a trigger on insert (0012).
          const computed = (c: { t: string; generated: string }) =>
            c.generated === "ALWAYS" || triggered.some((r) => r.t === c.t) ? "computed" : "copied";
          for (const c of skipped) expect(`${c.t}.${c.c}: ${computed(c)}`).toBe(`${c.t}.${c.c}: computed`);
          // A copied table with a sequence would need it moved past the copied ids.
          expect(own.filter((c) => c.def?.startsWith("nextval"))).toEqual([]);
        }
        // Each table comes after the tables it refers to.
        const order = plan.map((p) => p.name);
        expect(order.indexOf("users")).toBeLessThan(order.indexOf("chats"));
        expect(order.indexOf("chats")).toBeLessThan(order.indexOf("messages"));
        expect(plan.find((p) => p.name === "messages")!.selfReferences).toEqual(["parent_id"]);
      } finally {
        await t.close();
      }
    });
  }
});

/** Opens one connection whose timestamps read in UTC, so rows compare as text. */
async function utcPostgres(url: string): Promise<Database> {
  const database = fromPostgresClient(postgres(url, { max: 1, onnotice: () => {} }));
  await database.rows(sql`set time zone 'UTC'`);
  return database;
}

describe.if(DRIVERS.includes("postgres"))("parley move-data --to postgres://...", () => {
  const scratch = mkdtempSync(join(tmpdir(), "parley-move-"));
  const dataDir = join(scratch, "data");
  let fake: FakeUpstream;
  let target: TestDb;
  const running: Parley[] = [];
  const made = { chats: [] as string[], shareToken: "", annCookie: "", fileId: "" };
  const annsFile = png(16, 16, 42);
  beforeAll(async () => {
    fake = startFakeUpstream();
    target = await freshDatabase("postgres", { migrated: false });
  });
  afterAll(async () => {
    for (const p of running) if (p.proc.exitCode === null) await p.stop("SIGKILL");
    fake.stop();
    await target?.close();
    rmSync(scratch, { recursive: true, force: true });
  });
  const start = async (env: Record<string, string>) => {
    const parley = await startParley({ ...env, ...fakeEnv(fake) });
    running.push(parley);
    return parley;
  };

  test("builds an embedded database the way people do: accounts, sessions, chats with branches, settings, a share, a preset, a starred model, sign-up opened", async () => {
    const env = { DATA_DIR: dataDir };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORDS.ann)).code).toBe(0);
    expect((await runParley(["user", "create", "bob"], env, undefined, PASSWORDS.bob)).code).toBe(0);
    const server = await start(env);
    made.annCookie = (await signIn(server.url, "ann"))!;
    const ann = client(server.url, made.annCookie);
    const bob = client(server.url, (await signIn(server.url, "bob"))!);
    for (const [as, question, answer] of [
      [ann, "How do I knead dough?", "Knead the dough for ten minutes."],
      [ann, "Name a sourdough starter", "Call it Clint Yeastwood."],
      [bob, "What is a baguette?", "A long thin loaf of French bread."],
    ] as const) {
      fake.queue({ text: answer });
      const chatId = await startChat(as, question);
      await until(
        () => pageMessages(as, chatId),
        (m) => m.length === 2 && m[1]!.status === "complete",
        "a finished answer",
      );
      made.chats.push(chatId);
    }
    // A branch: Ann edits her first question; the old one and its answer are kept.
    const [first] = await pageMessages(ann, made.chats[0]!);
    const ws = await openSocket(server.url, `/ws?chat=${made.chats[0]}`, { cookie: made.annCookie });
    await ws.waitFor((html) => html.includes('id="transcript-live"'));
    fake.queue({ text: "Knead the rye dough gently." });
    ws.send({ action: "edit", message: first!.id, content: "How do I knead rye dough?" });
    const edited = await until(
      () => pageMessages(ann, made.chats[0]!),
      (m) => m.length === 2 && m[0]!.id !== first!.id && m[1]!.status === "complete",
      "the edit's answer",
    );
    await ws.waitFor(finished(edited[1]!.id));
    await ws.close();
    const settings = await ann(`/chats/${made.chats[1]}/settings`, {
      method: "POST",
      body: new URLSearchParams({ system_prompt: "You are a baker.", temperature: "0.7" }),
    });
    expect(settings.status).toBe(200);
    const shared = await (await ann(`/chats/${made.chats[1]}/shares`, { method: "POST" })).text();
    made.shareToken = /\/s\/([A-Za-z0-9_-]{20,})/.exec(shared)![1]!;
    const preset = await bob("/presets", {
      method: "POST",
      body: new URLSearchParams({ name: "Baker", model: "fake/fast", system_prompt: "Bake." }),
    });
    expect(preset.status).toBe(303);
    const starred = await bob("/models/favourites", {
      method: "POST",
      body: new URLSearchParams({ model: "fake/fast", favourite: "true" }),
    });
    expect(starred.status).toBe(204);
    const form = new FormData();
    form.append("file", aFile(annsFile, "starter.png"));
    const uploaded = await ann("/files", { method: "POST", body: form });
    made.fileId = (await uploaded.json()).files[0].id;
    expect((await ann("/admin/signup", { method: "POST", body: new URLSearchParams({ open: "true" }) })).status).toBe(
      303,
    );
    expect(await server.stop()).toBe(0);
  });

  test("refuses while the embedded database's server runs, saying to stop it", async () => {
    const server = await start({ DATA_DIR: dataDir });
    const res = await runParley(["move-data", "--to", target.url!], { DATA_DIR: dataDir });
    expect(res.code).toBe(1);
    expect(oneSentence(res.stderr)).toMatch(
      new RegExp(`DATA_DIR \\(.*\\) is in use by a running Parley \\(process ${server.proc.pid}\\); stop it first`),
    );
    expect(await server.stop()).toBe(0);
    const tables = await target.database.rows(
      sql`select 1 from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema')`,
    );
    expect(tables).toEqual([]);
  });

  test("copies every row, ids and timestamps exact, reports each table's counts, and the server runs on it with the same people, sessions, chats, search and links", async () => {
    const res = await runParley(["move-data", "--to", target.url!], { DATA_DIR: dataDir });
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    const source = await openDatabase({ url: undefined, dataDir });
    const copy = await utcPostgres(target.url!);
    try {
      await source.rows(sql`set time zone 'UTC'`);
      const expected: Record<string, number> = {
        users: 2,
        identities: 0,
        sessions: 2,
        site_settings: 1,
        chats: 3,
        messages: 8,
        shares: 1,
        presets: 1,
        projects: 0,
        project_files: 0,
        favourite_models: 1,
        files: 1,
        message_files: 0,
        message_annotations: 0,
        share_files: 0,
        groups: 0,
        group_members: 0,
        api_keys: 0,
        mcp_servers: 0,
        chat_mcp_servers: 0,
        usage: 7, // 4 answers (3 chats and an edit) and 3 titles, each reserved and settled
        // Two accounts made on the command line, two sign-ins, a shared link, sign-up opened.
        audit_log: 6,
      };
      for (const table of copyPlan()) {
        const rows = await tableJson(source, table.name, table.key);
        expect(`${table.name}: ${rows.length}`).toBe(`${table.name}: ${expected[table.name]}`);
        expect(res.stdout).toMatch(
          new RegExp(`${table.name} +${rows.length} rows in DATA_DIR, ${rows.length} in the target`),
        );
        expect(await tableJson(copy, table.name, table.key)).toEqual(rows);
      }
      expect(res.stdout).toContain("every count matches");
    } finally {
      await source.close();
      await copy.close();
    }

    const server = await start({ DATABASE_URL: target.url! });
    // A session made on the embedded database still works: its hash was moved.
    const ann = client(server.url, made.annCookie);
    expect((await ann("/")).status).toBe(200);
    expect(await signIn(server.url, "bob")).toBeDefined();
    const page = await (await ann(`/chats/${made.chats[0]}`)).text();
    expect(page).toContain("How do I knead rye dough?");
    expect(page).toContain("Knead the rye dough gently.");
    expect(page).toContain("‹"); // the edit's sibling, switchable
    const found = await (await ann("/search?q=yeastwood")).text();
    expect(found).toContain(`/chats/${made.chats[1]}`);
    expect(found).not.toContain(`/chats/${made.chats[2]}`);
    const sharedPage = await fetch(`${server.url}/s/${made.shareToken}`);
    expect(sharedPage.status).toBe(200);
    expect(await sharedPage.text()).toContain("Clint Yeastwood");
    // The bytes of a file come through the copy (as JSON) exactly.
    const file = await ann(`/files/${made.fileId}`);
    expect(Buffer.from(await file.arrayBuffer()).equals(annsFile)).toBe(true);
    expect(await server.stop()).toBe(0);
  });

  test("refuses a target that holds Parley's data (run twice) or tables of its own, and leaves it untouched", async () => {
    const before = await target.database.rows<{ n: string }>(sql`select count(*)::text as n from messages`);
    const twice = await runParley(["move-data", "--to", target.url!], { DATA_DIR: dataDir });
    expect(twice.code).toBe(1);
    expect(oneSentence(twice.stderr)).toMatch(/The target database already holds Parley's data \(\d+ rows in \w+\)/);
    expect(await target.database.rows(sql`select count(*)::text as n from messages`)).toEqual(before);

    const other = await createDatabase(process.env.PARLEY_TEST_PG_ADMIN!);
    const sqlOther = postgres(other.url, { max: 1, onnotice: () => {} });
    try {
      await sqlOther`create table inventory (item text)`;
      const res = await runParley(["move-data", "--to", other.url], { DATA_DIR: dataDir });
      expect(res.code).toBe(1);
      expect(oneSentence(res.stderr)).toMatch(/The target database is not empty \(it has table public\.inventory\)/);
      const tables = await sqlOther`select table_name from information_schema.tables where table_schema = 'public'`;
      expect(tables.map((r) => r.table_name)).toEqual(["inventory"]);
    } finally {
      await sqlOther.end();
      await other.drop();
    }
    const bad = await runParley(["move-data", "--to", "mysql://x"], { DATA_DIR: dataDir });
    expect(oneSentence(bad.stderr)).toMatch(/--to must be a postgres:\/\/ URL/);
    expect((await runParley(["move-data"], { DATA_DIR: dataDir })).code).toBe(2);
  });
});
