import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findPgTool } from "../../src/backup/pg-tools.ts";
import { type Database, openDatabase } from "../../src/db/client.ts";
import type { Message } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, freshDatabase, type TestDb } from "../support/db.ts";
import { type Parley, runParley, startParley, until } from "../support/process.ts";
import { finished, openSocket, type TestSocket } from "../support/ws.ts";
import { allMessages, client, oneSentence, PASSWORDS, pageMessages, signIn, startChat } from "./support.ts";

// Each test here starts processes that open the embedded database (Postgres in WASM: seconds each
// on a busy 2-core machine, several per test); npm test's 60 s per test was their whole margin,
// and a clean-clone run with other work on the machine went past it. A budget for the work, not
// a wait: nothing here sleeps toward it.
setDefaultTimeout(180_000);

const scratch = mkdtempSync(join(tmpdir(), "parley-backup-"));
const SLOW_TEXT = Array.from({ length: 600 }, (_, i) => `word${i}`).join(" ");

let fake: FakeUpstream;
const running: Parley[] = [];
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(async () => {
  for (const p of running) if (p.proc.exitCode === null) await p.stop("SIGKILL");
  fake.stop();
  rmSync(scratch, { recursive: true, force: true });
});

async function start(env: Record<string, string>) {
  const parley = await startParley({ ...env, ...fakeEnv(fake) });
  running.push(parley);
  return parley;
}

async function makePeople(env: Record<string, string>) {
  for (const who of ["ann", "bob"] as const) {
    const made = await runParley(["user", "create", who], env, undefined, PASSWORDS[who]);
    expect(made.code).toBe(0);
  }
}

/**
 * On a running server: two chats with finished answers, and a third whose answer is still being
 * written (slowly) once some of it has been saved. Returns what each must hold.
 */
async function chatsMidStream(url: string) {
  const ann = client(url, (await signIn(url, "ann"))!);
  const bob = client(url, (await signIn(url, "bob"))!);
  const done: { chatId: string; answer: string }[] = [];
  for (const [as, question, answer] of [
    [ann, "What is bread?", "Bread is **flour**, water and time."],
    [bob, "What is rye?", "Rye is a grain; its bread is dense."],
  ] as const) {
    fake.queue({ text: answer });
    const chatId = await startChat(as, question);
    await until(
      () => pageMessages(as, chatId),
      (m) => m.length === 2 && m[1]!.status === "complete",
      "a finished answer",
    );
    done.push({ chatId, answer });
  }
  fake.queue({ text: SLOW_TEXT, tokenDelayMs: 30 });
  const slowChat = await startChat(ann, "Count slowly");
  const [, answer] = await until(
    () => pageMessages(ann, slowChat),
    (m) => m.length === 2,
    "the slow answer",
  );
  const watching = await openSocket(url, `/ws?chat=${slowChat}`, { cookie: (await signIn(url, "ann"))! });
  // Each frame appends a few words; they are saved about once a second: wait until some surely are.
  await watching.waitFor(() => watching.messages.length > 60, { timeoutMs: 30_000 });
  await Bun.sleep(2500);
  return { done, slowChat, slowAnswerId: answer!.id, watching, ann };
}

/**
 * Stops the slow answer from its tab: it was still being written after the backup (a stop of an
 * ended answer is refused), and the test need not wait the half-minute it would take to end.
 */
async function stopSlow(watching: TestSocket, slowAnswerId: string) {
  watching.send({ action: "stop", message: slowAnswerId });
  expect(await watching.waitFor(finished(slowAnswerId), { timeoutMs: 30_000 })).toContain('data-status="stopped"');
  await watching.close();
}

/** What a backup must keep: every message that had ended, exactly; the one being written, a prefix. */
function expectRestored(before: Message[], after: Message[], slowAnswerId: string) {
  expect(after.map((m) => m.id)).toEqual(before.map((m) => m.id));
  for (const m of before) {
    const restored = after.find((r) => r.id === m.id)!;
    if (m.id === slowAnswerId) {
      expect(restored.status).toBe("interrupted");
      expect(restored.content.length).toBeGreaterThan(0);
      expect(restored.content.length).toBeLessThan(SLOW_TEXT.length);
      expect(SLOW_TEXT.startsWith(restored.content)).toBe(true);
    } else {
      expect(restored).toMatchObject({ status: "complete", content: m.content, role: m.role, createdAt: m.createdAt });
    }
  }
}

async function readMessages(open: () => Promise<Database>) {
  const database = await open();
  try {
    return await allMessages(database);
  } finally {
    await database.close();
  }
}

describe("parley backup and restore on the embedded database", () => {
  const source = join(scratch, "source");
  const restored = join(scratch, "restored");
  const file = join(scratch, "while-running.tar.gz");

  test("a backup taken while answers stream restores into a fresh DATA_DIR: every finished message, the streaming one interrupted with its saved words, and the same passwords", async () => {
    await makePeople({ DATA_DIR: source });
    const server = await start({ DATA_DIR: source });
    const { done, slowChat, slowAnswerId, watching } = await chatsMidStream(server.url);

    const backup = await runParley(["backup", file], { DATA_DIR: source });
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain(`from the running server, process ${server.proc.pid}`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // The answer was still being written when the backup was taken (and is stopped now).
    await stopSlow(watching, slowAnswerId);
    expect(server.logs.some((l) => l.event === "backup dumped")).toBe(true);
    expect(await server.stop()).toBe(0);
    const before = await readMessages(() => openDatabase({ url: undefined, dataDir: source }));
    const slow = before.find((m) => m.id === slowAnswerId)!;
    expect(slow.status).toBe("stopped");
    expect(SLOW_TEXT.startsWith(slow.content)).toBe(true);

    const restore = await runParley(["restore", file], { DATA_DIR: restored });
    expect(restore.stderr).toBe("");
    expect(restore).toMatchObject({ code: 0 });
    expect(restore.stdout).toContain("2 users, 3 chats, 6 messages");
    // The running server's lock and its backup key are not part of the copy.
    expect(readdirSync(restored)).not.toContain("parley.pid");
    expect(readdirSync(restored)).not.toContain("parley.backup");

    const copy = await start({ DATA_DIR: restored });
    for (const who of ["ann", "bob"] as const) expect(await signIn(copy.url, who)).toBeDefined();
    const ann = client(copy.url, (await signIn(copy.url, "ann"))!);
    expect((await pageMessages(ann, slowChat)).map((m) => m.status)).toEqual(["complete", "interrupted"]);
    const bread = await (await ann(`/chats/${done[0]!.chatId}`)).text();
    expect(bread).toContain("<strong>flour</strong>");
    expect(await copy.stop()).toBe(0);
    expectRestored(before, await readMessages(() => openDatabase({ url: undefined, dataDir: restored })), slowAnswerId);
  });

  test("restore refuses a DATA_DIR that is not empty, and leaves it as it was", async () => {
    const listing = readdirSync(restored).sort();
    const version = readFileSync(join(restored, "PG_VERSION"), "utf8");
    const again = await runParley(["restore", file], { DATA_DIR: restored });
    expect(again.code).toBe(1);
    expect(oneSentence(again.stderr)).toMatch(
      /DATA_DIR \(.*restored\) is not empty; restore into a new or empty folder/,
    );
    expect(readdirSync(restored).sort()).toEqual(listing);
    expect(readFileSync(join(restored, "PG_VERSION"), "utf8")).toBe(version);
  });

  test("with no server running, backup reads DATA_DIR itself; restore takes an empty folder that exists", async () => {
    const file2 = join(scratch, "stopped.tar.gz");
    const backup = await runParley(["backup", file2], { DATA_DIR: source });
    expect(backup.code).toBe(0);
    expect(backup.stdout).toContain("the server was not running");
    const target = join(scratch, "empty-folder");
    mkdirSync(target);
    const restore = await runParley(["restore", file2], { DATA_DIR: target });
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain("2 users, 3 chats, 6 messages");
    const copy = await start({ DATA_DIR: target });
    expect(await signIn(copy.url, "bob")).toBeDefined();
    expect(await copy.stop()).toBe(0);
  });

  test("files that are not a backup of this kind are refused with a sentence, and nothing is made", async () => {
    const cases: [string, Uint8Array | string, RegExp][] = [
      [
        "notes.txt",
        "just some words",
        /is not a Parley backup \(neither the embedded database's \.tar\.gz nor pg_dump's/,
      ],
      ["dump.pgdump", "PGDMP\x01\x0e\x00", /is a backup of a Postgres database \(pg_dump's format\); set DATABASE_URL/],
      [
        "other.tar.gz",
        Bun.gzipSync(new TextEncoder().encode("not a tar at all")),
        /is a gzip file but not a Parley backup/,
      ],
    ];
    for (const [name, bytes, message] of cases) {
      const path = join(scratch, name);
      writeFileSync(path, bytes);
      const target = join(scratch, `from-${name}`);
      const res = await runParley(["restore", path], { DATA_DIR: target });
      expect(res.code).toBe(1);
      expect(oneSentence(res.stderr)).toMatch(message);
      expect(existsSync(target)).toBe(false);
    }
    const missing = await runParley(["restore", join(scratch, "nope.tar.gz")], { DATA_DIR: join(scratch, "x") });
    expect(oneSentence(missing.stderr)).toMatch(/nope\.tar\.gz does not exist/);
    const nothing = await runParley(["backup", join(scratch, "empty.tar.gz")], { DATA_DIR: join(scratch, "none") });
    expect(nothing.code).toBe(1);
    expect(oneSentence(nothing.stderr)).toMatch(
      /DATA_DIR \(.*none\) holds no database, so there is nothing to back up/,
    );
    expect(existsSync(join(scratch, "empty.tar.gz"))).toBe(false);
    expect((await runParley(["backup"], {})).code).toBe(2);
  });
});

describe.if(DRIVERS.includes("postgres"))("parley backup and restore on Postgres (pg_dump, pg_restore)", () => {
  let source: TestDb;
  let target: TestDb;
  const file = join(scratch, "postgres.dump");
  beforeAll(async () => {
    source = await freshDatabase("postgres");
    target = await freshDatabase("postgres", { migrated: false });
  });
  afterAll(async () => {
    await source?.close();
    await target?.close();
  });

  test("a backup taken while answers stream restores into an empty database: every finished message, the streaming one ended as interrupted, the same passwords", async () => {
    await makePeople({ DATABASE_URL: source.url! });
    const server = await start({ DATABASE_URL: source.url! });
    const { slowChat, slowAnswerId, watching } = await chatsMidStream(server.url);

    const backup = await runParley(["backup", file], { DATABASE_URL: source.url! });
    if (!findPgTool("pg_dump")) {
      // CI installs it (.ci/run); elsewhere the command must say what is missing.
      expect(oneSentence(backup.stderr)).toMatch(/pg_dump was not found on PATH or in \/usr\/lib\/postgresql/);
      return;
    }
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(readFileSync(file).subarray(0, 5).toString()).toBe("PGDMP");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await stopSlow(watching, slowAnswerId);
    expect(await server.stop()).toBe(0);
    const before = await allMessages(source.database);

    const restore = await runParley(["restore", file], { DATABASE_URL: target.url! });
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain("2 users, 3 chats, 6 messages");

    const copy = await start({ DATABASE_URL: target.url! });
    for (const who of ["ann", "bob"] as const) expect(await signIn(copy.url, who)).toBeDefined();
    // The answer was being written by a process that is gone: its lease runs out and it is ended.
    const ann = client(copy.url, (await signIn(copy.url, "ann"))!);
    await until(
      () => pageMessages(ann, slowChat),
      (m) => m[1]?.status === "interrupted",
      "the copied streaming answer ending as interrupted",
    );
    expectRestored(before, await allMessages(target.database), slowAnswerId);
    expect(await copy.stop()).toBe(0);
  });

  test("restore refuses a database that is not empty, or a backup of the other kind, and changes nothing", async () => {
    const again = await runParley(["restore", file], { DATABASE_URL: target.url! });
    expect(again.code).toBe(1);
    expect(oneSentence(again.stderr)).toMatch(/The database at DATABASE_URL .* is not empty \(it has \d+ tables\)/);
    expect((await allMessages(target.database)).length).toBe(6);

    // Told apart by its first bytes (gzip), before anything is read or touched.
    const pgliteFile = join(scratch, "embedded.tar.gz");
    writeFileSync(pgliteFile, Bun.gzipSync(new TextEncoder().encode("a data directory")));
    const wrong = await runParley(["restore", pgliteFile], { DATABASE_URL: target.url! });
    expect(wrong.code).toBe(1);
    expect(oneSentence(wrong.stderr)).toMatch(/is a backup of the embedded database; unset DATABASE_URL/);
  });
});
