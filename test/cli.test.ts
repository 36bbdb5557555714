import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { migrations } from "../src/db/migrate.ts";
import { fakeEnv, startFakeUpstream } from "./fake-upstream.ts";
import { DRIVERS, freshDatabase } from "./support/db.ts";
import { runParley, signInAt, startParley, until } from "./support/process.ts";
import { TEST_PASSWORD } from "./support/server.ts";
import { REQUIRED_SETTINGS } from "./support/settings.ts";

// Each test here starts processes that open the embedded database (Postgres in WASM: seconds each
// on a busy 2-core machine, several per test); npm test's 60 s per test was their whole margin,
// and a clean-clone run with other work on the machine went past it. A budget for the work, not
// a wait: nothing here sleeps toward it.
setDefaultTimeout(180_000);

const scratch = mkdtempSync(join(tmpdir(), "parley-cli-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** One line, starting "parley: ", naming the variable, and no stack trace. */
function expectOneSentence(stderr: string, mentions: RegExp) {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toStartWith("parley: ");
  expect(lines[0]).toMatch(mentions);
  expect(stderr).not.toMatch(/\n\s+at /);
}

/**
 * A process killed with SIGKILL that stays a zombie: its parent (`sleep`, exec'd by the shell
 * that started it) never waits for it. Killing `parent` lets init reap it.
 */
async function zombieProcess() {
  const parent = Bun.spawn(["sh", "-c", "sleep 300 & echo $!; exec sleep 300"], { stdout: "pipe" });
  const reader = parent.stdout.getReader();
  const pid = Number(new TextDecoder().decode((await reader.read()).value).trim());
  reader.releaseLock();
  // Killed while the shell had not yet become `sleep`, the child was sometimes reaped by the shell
  // (7 of 20 tries on a loaded machine): kill it only once nothing is left that would wait for it.
  const parentIs = async () => readFileSync(`/proc/${parent.pid}/comm`, "utf8").trim();
  await until(parentIs, (comm) => comm === "sleep", "the shell becoming sleep");
  process.kill(pid, "SIGKILL");
  const state = () => readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
  await until(
    async () => state(),
    (s) => s === "Z",
    `process ${pid} becoming a zombie`,
  );
  process.kill(pid, 0); // still "exists", which is what fooled the lock
  return { pid, parent };
}

describe("the parley command", () => {
  test("--help lists every setting with its default and never prints a secret", async () => {
    const { code, stdout } = await runParley(["--help"], {
      OPENROUTER_API_KEY: "sk-or-v1-supersecret",
      DATABASE_URL: "postgres://me:pa55word@db/parley",
    });
    expect(code).toBe(0);
    for (const name of REQUIRED_SETTINGS) {
      // Each name stands apart from its description (UPSTREAM_STALL_TIMEOUT_MS once ran into it).
      expect(stdout).toMatch(new RegExp(`^  ${name} {2,}\\S`, "m"));
    }
    // It fits an 80-column terminal.
    expect(stdout.split("\n").filter((line) => line.length > 80)).toEqual([]);
    expect(stdout).toContain("serve");
    expect(stdout).toContain("migrate");
    expect(stdout).not.toContain("supersecret");
    expect(stdout).not.toContain("pa55word");
  });

  test("an unknown command is refused with a hint", async () => {
    const { code, stderr } = await runParley(["sevre"], {});
    expect(code).toBe(2);
    expectOneSentence(stderr, /unknown command "sevre".*--help/);
  });

  const badStarts: [string, Record<string, string>, RegExp][] = [
    ["PORT=abc", { PORT: "abc" }, /PORT must be a whole number/],
    ["a malformed DATABASE_URL", { DATABASE_URL: "localhost:5432/parley" }, /DATABASE_URL must be a postgres:\/\/ URL/],
    [
      "an unreachable database",
      { DATABASE_URL: "postgres://parley:hunter2@127.0.0.1:1/parley" },
      /Could not connect to the database at DATABASE_URL .*connection refused/,
    ],
    [
      "a DATA_DIR that cannot be created",
      { DATA_DIR: "/proc/parley-cannot-live-here" },
      /DATA_DIR \(\/proc\/parley-cannot-live-here\) cannot be created or written to/,
    ],
    [
      "a DATA_DIR below a file",
      { DATA_DIR: join(scratch, "a-file", "data") },
      /DATA_DIR .* cannot be created or written to \(ENOTDIR\)/,
    ],
  ];
  writeFileSync(join(scratch, "a-file"), "not a folder");
  for (const [what, env, message] of badStarts) {
    test(`${what} stops the start with one sentence naming the variable and a non-zero exit`, async () => {
      const { code, stderr, stdout } = await runParley(["serve"], { DATA_DIR: join(scratch, "unused"), ...env });
      expect(code).toBe(1);
      expectOneSentence(stderr, message);
      expect(stderr + stdout).not.toContain("hunter2");
    });
  }

  test("a port already held by another Parley is named in one sentence, not shared", async () => {
    const first = await startParley({ DATA_DIR: join(scratch, "first") });
    try {
      const port = new URL(first.url).port;
      const { code, stderr } = await runParley(["serve"], { PORT: port, DATA_DIR: join(scratch, "second") });
      expect(code).toBe(1);
      expectOneSentence(stderr, new RegExp(`PORT ${port} is already in use`));
      // Refused before the database: no embedded database was made (and migrated) for nothing.
      expect(existsSync(join(scratch, "second"))).toBe(false);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });
});

describe("parley serve on the embedded database", () => {
  test("creates DATA_DIR, migrates, serves, logs one JSON line per request, and exits 0 on SIGTERM", async () => {
    const dataDir = join(scratch, "nested", "data");
    const parley = await startParley({ DATA_DIR: dataDir, OPENROUTER_API_KEY: "sk-or-v1-neverlogged" });
    expect(existsSync(join(dataDir, "PG_VERSION"))).toBe(true);
    expect((await fetch(`${parley.url}/readyz`)).status).toBe(200);
    // No account yet: the app sends the first visitor to create the admin account.
    expect((await fetch(`${parley.url}/`, { redirect: "manual" })).headers.get("location")).toBe("/signin");
    expect((await fetch(`${parley.url}/signin`, { redirect: "manual" })).headers.get("location")).toBe("/setup");
    expect((await fetch(`${parley.url}/setup`)).status).toBe(200);
    expect((await fetch(`${parley.url}/missing`)).status).toBe(404);
    expect(await parley.stop("SIGTERM")).toBe(0);
    const requests = parley.logs.filter((l) => l.event === "request");
    expect(requests.map((r) => [r.method, r.path, r.status])).toEqual([
      ["GET", "/", 303],
      ["GET", "/signin", 303],
      ["GET", "/setup", 200],
      ["GET", "/missing", 404],
    ]);
    expect(parley.logs.find((l) => String(l.event).startsWith("no account yet"))).toBeDefined();
    for (const r of requests) expect(typeof r.ms).toBe("number");
    const events = parley.logs.map((l) => String(l.event));
    expect(events).toEqual(expect.arrayContaining(["database ready", "listening", "shutting down", "stopped"]));
    // The first start says what the seconds of silence are, before them, and how long they took.
    expect(events.slice(0, 2)).toEqual([
      `Creating the embedded database in ${dataDir} (first start only)…`,
      "embedded database created",
    ]);
    expect(parley.logs[1]?.ms).toBeGreaterThan(0);
    expect(JSON.stringify(parley.logs)).not.toContain("neverlogged");
  });

  test("killed with SIGKILL mid-answer: the next start has the question and every word saved before, marked interrupted", async () => {
    const fake = startFakeUpstream();
    const dataDir = join(scratch, "killed");
    try {
      const words = Array.from({ length: 600 }, (_, i) => `w${i + 1}`).join(" ");
      // The answer stops mid-way and stays open, silent: what the tab saw is what a save must keep.
      fake.setDefault({ text: words, tokenSize: 8, tokenDelayMs: 10, stallAfterTokens: 60 });
      // The account is made on the command line: the data directory is new, unpacked from the build's template.
      const made = await runParley(["user", "create", "kim"], { DATA_DIR: dataDir }, undefined, `${TEST_PASSWORD}\n`);
      expect(made.code).toBe(0);
      const parley = await startParley({ DATA_DIR: dataDir, ...fakeEnv(fake) });
      const cookie = await signInAt(parley.url, "kim", TEST_PASSWORD);
      const sent = await fetch(`${parley.url}/chats`, {
        method: "POST",
        headers: { Origin: parley.url, cookie },
        body: new URLSearchParams({ content: "Tell me slowly" }),
        redirect: "manual",
      });
      const chatId = /\/chats\/([0-9a-f-]+)$/.exec(sent.headers.get("location") ?? "")![1]!;
      const streamed = words.slice(0, 60 * 8);
      await until(
        async () => fake.requests.at(-1)?.sent,
        (s) => s === streamed,
        "the answer's first 60 tokens sent",
      );
      // Progress is saved every second while text arrives; three seconds after the last, it is on disk.
      await Bun.sleep(3000);
      parley.proc.kill("SIGKILL");
      await parley.proc.exited;

      const again = await startParley({ DATA_DIR: dataDir, ...fakeEnv(fake) });
      expect(await again.stop("SIGTERM")).toBe(0);
      const database = await openDatabase({ url: undefined, dataDir });
      try {
        const rows = await database.rows<{ role: string; content: string; status: string }>(
          sql`select role, content, status from messages where chat_id = ${chatId} order by id`,
        );
        expect(rows.map((r) => [r.role, r.status, r.content])).toEqual([
          ["user", "complete", "Tell me slowly"],
          ["assistant", "interrupted", streamed],
        ]);
      } finally {
        await database.close();
      }
    } finally {
      fake.stop();
    }
  });

  test("parley user create and reset-password: piped passwords, clear refusals, a reset ends every session", async () => {
    const dataDir = join(scratch, "accounts");
    const env = { DATA_DIR: dataDir };
    const first = await runParley(["user", "create", "Ann"], env, undefined, "a first long password\n");
    expect(first).toMatchObject({ code: 0, stdout: 'created admin account "ann"\n' });
    expect(await runParley(["user", "create", "bob"], env, undefined, "a very long password")).toMatchObject({
      code: 0,
      stdout: 'created account "bob"\n',
    });
    const taken = await runParley(["user", "create", "ann"], env, undefined, "another long password");
    expect(taken.code).toBe(1);
    expectOneSentence(taken.stderr, /The username "ann" is taken/);
    const weak = await runParley(["user", "create", "cy"], env, undefined, "short");
    expect(weak.code).toBe(1);
    expectOneSentence(weak.stderr, /at least 10 characters/);
    // Refused before any database is opened: a DATA_DIR that does not exist yet is not made.
    const unmade = join(scratch, "never-made");
    for (const args of [
      ["user", "create", "cy"],
      ["user", "reset-password", "cy"],
    ]) {
      const early = await runParley(args, { DATA_DIR: unmade }, undefined, "password123");
      expect(early.code).toBe(1);
      expectOneSentence(early.stderr, /easy to guess|commonly used|most used/);
      expect(existsSync(unmade)).toBe(false);
    }
    const badName = await runParley(["user", "create", "-x"], { DATA_DIR: unmade }, undefined, "a very long password");
    expect(badName.code).toBe(1);
    expectOneSentence(badName.stderr, /A username is 1 to 40 letters/);
    expect(existsSync(unmade)).toBe(false);
    const nobody = await runParley(["user", "reset-password", "zed"], env, undefined, "a fine long password");
    expect(nobody.code).toBe(1);
    expectOneSentence(nobody.stderr, /There is no user "zed"/);
    expect((await runParley(["user", "delete", "ann"], env)).code).toBe(2);

    const signIn = (url: string, password: string) =>
      fetch(`${url}/signin`, {
        method: "POST",
        headers: { Origin: url },
        body: new URLSearchParams({ username: "ann", password }),
        redirect: "manual",
      });
    let parley = await startParley(env);
    const session = (await signIn(parley.url, "a first long password")).headers.get("set-cookie")!.split(";")[0]!;
    expect((await fetch(`${parley.url}/`, { headers: { cookie: session }, redirect: "manual" })).status).toBe(200);
    expect(await parley.stop()).toBe(0);

    const reset = await runParley(["user", "reset-password", "ann"], env, undefined, "a second long password\n");
    expect(reset).toMatchObject({ code: 0, stdout: 'new password set for "ann"; their sessions have ended\n' });
    parley = await startParley(env);
    try {
      expect((await fetch(`${parley.url}/`, { headers: { cookie: session }, redirect: "manual" })).status).toBe(303);
      expect((await signIn(parley.url, "a first long password")).status).toBe(401);
      expect((await signIn(parley.url, "a second long password")).status).toBe(303);
    } finally {
      expect(await parley.stop()).toBe(0);
    }
  });

  test("one process per embedded database: a second is refused with a sentence; a dead owner's lock is taken over", async () => {
    const dataDir = join(scratch, "locked");
    const parley = await startParley({ DATA_DIR: dataDir });
    const second = await runParley(
      ["user", "create", "ann"],
      { DATA_DIR: dataDir },
      undefined,
      "a long enough password",
    );
    expect(second.code).toBe(1);
    expectOneSentence(second.stderr, new RegExp(`is in use by another Parley \\(process ${parley.proc.pid}\\)`));
    expect(await parley.stop()).toBe(0);
    expect(existsSync(join(dataDir, "parley.pid"))).toBe(false);
    // A lock left by a process that no longer exists does not keep anyone out.
    writeFileSync(join(dataDir, "parley.pid"), "999999");
    const after = await runParley(
      ["user", "create", "ann"],
      { DATA_DIR: dataDir },
      undefined,
      "a long enough password",
    );
    expect(after).toMatchObject({ code: 0, stdout: 'created admin account "ann"\n' });

    // Nor does a lock left by a process killed and not yet reaped (a zombie: `kill -0` still
    // finds it), as right after a `kill -9` whose parent is slow to wait for it.
    const zombie = await zombieProcess();
    try {
      writeFileSync(join(dataDir, "parley.pid"), String(zombie.pid));
      const taken = await runParley(
        ["user", "create", "bea"],
        { DATA_DIR: dataDir },
        undefined,
        "a long enough password",
      );
      expect(taken).toMatchObject({ code: 0, stdout: 'created account "bea"\n' });
    } finally {
      zombie.parent.kill("SIGKILL");
    }
  });

  test("parley healthcheck exits 0 while the server is ready and 1 when nothing answers", async () => {
    const parley = await startParley({ DATA_DIR: join(scratch, "nested", "data") });
    const port = new URL(parley.url).port;
    const up = await runParley(["healthcheck"], { PORT: port, HOST: "0.0.0.0" });
    expect(up.code).toBe(0);
    expect(up.stdout).toContain('"status":"ready"');
    expect(await parley.stop()).toBe(0);
    const down = await runParley(["healthcheck"], { PORT: port });
    expect(down.code).toBe(1);
    expectOneSentence(down.stderr, /readyz did not answer/);
  });

  test("a second start reuses the data and applies no migration; SIGINT also exits 0", async () => {
    const dataDir = join(scratch, "nested", "data");
    const parley = await startParley({ DATA_DIR: dataDir });
    expect(parley.logs.find((l) => l.event === "database ready")).toMatchObject({
      driver: "pglite",
      migrationsApplied: 0,
    });
    expect(parley.logs.some((l) => String(l.event).includes("embedded database"))).toBe(false);
    expect(await parley.stop("SIGINT")).toBe(0);
  });

  test("parley migrate prepares a fresh DATA_DIR and exits 0", async () => {
    const dataDir = join(scratch, "migrate-only");
    const { code, stdout } = await runParley(["migrate"], { DATA_DIR: dataDir });
    expect(code).toBe(0);
    expect(stdout).toContain('"event":"migrated"');
    expect(readdirSync(dataDir)).toContain("PG_VERSION");
  });
});

if (DRIVERS.includes("postgres")) {
  describe("parley on Postgres", () => {
    test("migrate then serve: the database is ready and SIGTERM exits 0", async () => {
      const t = await freshDatabase("postgres", { migrated: false });
      try {
        const migrated = await runParley(["migrate"], { DATABASE_URL: t.url! });
        expect(migrated.code).toBe(0);
        expect(migrated.stdout).toContain(`"applied":${migrations.length}`);
        const parley = await startParley({ DATABASE_URL: t.url!, DATA_DIR: join(scratch, "never-created") });
        expect(parley.logs.find((l) => l.event === "database ready")).toMatchObject({
          driver: "postgres",
          migrationsApplied: 0,
        });
        expect(await (await fetch(`${parley.url}/readyz`)).json()).toEqual({ status: "ready", database: "postgres" });
        expect(await parley.stop()).toBe(0);
        expect(existsSync(join(scratch, "never-created"))).toBe(false);
      } finally {
        await t.close();
      }
    });

    test("a database that does not exist is named in one sentence", async () => {
      const url = new URL(process.env.PARLEY_TEST_PG_ADMIN!);
      url.pathname = "/parley_no_such_database";
      const { code, stderr } = await runParley(["serve"], { DATABASE_URL: url.toString() });
      expect(code).toBe(1);
      expectOneSentence(stderr, /DATABASE_URL .*the database does not exist/);
    });
  });
}
