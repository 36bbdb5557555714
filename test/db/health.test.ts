import { afterEach, expect, test } from "bun:test";
import { createDbHealth, type DbHealth } from "../../src/db/health.ts";

// The rules by which one process decides its database is in trouble, driven statement by statement
// as client.ts drives them. The outage itself is tested for real in test/db/outage.test.ts.

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
const diskFull = Object.assign(new Error("could not extend file: No space left on device"), { code: "53100" });

let health: DbHealth | undefined;
afterEach(() => health?.close());

/** A health whose pings fail while `db.up` is false, as a stopped server refuses them. */
function watch(opts: { writeTroubleMs?: number } = {}) {
  const seen: (string | undefined)[] = [];
  const db = { up: true };
  health = createDbHealth(async () => {
    if (!db.up) throw refused;
  }, opts);
  health.onChange((trouble) => seen.push(trouble?.kind));
  return { health, seen, db };
}

/** Lets a confirming ping settle (the stub answers at once). */
const pinged = () => Bun.sleep(5);

test("a write sent during an outage that fails after a later write succeeded leaves no trouble", async () => {
  const { health, seen, db } = watch();
  const early = health.begin();
  const failing = health.begin();
  db.up = false;
  health.observe(failing, true, refused);
  await pinged();
  expect(health.trouble?.kind).toBe("unreachable");
  db.up = true;
  const later = health.begin();
  health.observe(later, true);
  expect(health.trouble).toBeUndefined();
  health.observe(early, true, refused);
  expect(health.trouble).toBeUndefined();
  expect(seen).toEqual(["unreachable", undefined]);
});

test("a read that succeeds does not excuse an older write that failed on a full disk", () => {
  const { health } = watch();
  const write = health.begin();
  const read = health.begin();
  health.observe(read, false);
  health.observe(write, true, diskFull);
  expect(health.trouble?.kind).toBe("writes-failing");
});

test("a failure sent after the last success still counts, once a ping confirms it", async () => {
  const { health, db } = watch();
  const ok = health.begin();
  health.observe(ok, true);
  const after = health.begin();
  db.up = false;
  health.observe(after, true, refused);
  await pinged();
  expect(health.trouble?.kind).toBe("unreachable");
});

test("one statement failing to connect while the database answers pings leaves no trouble (a broken pooled connection)", async () => {
  const { health, seen } = watch();
  const ok = health.begin();
  health.observe(ok, false);
  const broken = health.begin();
  health.observe(broken, false, refused);
  await pinged();
  expect(health.trouble).toBeUndefined();
  expect(seen).toEqual([]);
});

test("failed writes stop counting after their window, and listeners hear it without another statement", async () => {
  const { health, seen } = watch({ writeTroubleMs: 50 });
  const write = health.begin();
  health.observe(write, true, diskFull);
  expect(seen).toEqual(["writes-failing"]);
  for (let waited = 0; seen.length < 2 && waited < 10_000; waited += 20) await Bun.sleep(20);
  expect(seen).toEqual(["writes-failing", undefined]);
  expect(health.trouble).toBeUndefined();
});

test("a statement sent during an outage that fails after /readyz found the database again leaves no trouble", async () => {
  let up = false;
  const seen: (string | undefined)[] = [];
  health = createDbHealth(async () => {
    if (!up) throw refused;
  });
  health.onChange((trouble) => seen.push(trouble?.kind));
  const during = health.begin();
  const failed = health.begin();
  health.observe(failed, false, refused);
  await Bun.sleep(5);
  expect(health.trouble?.kind).toBe("unreachable");
  up = true;
  expect(await health.check()).toBeUndefined();
  // The page that loaded next must not meet a 503: the old statement's late failure is stale news.
  health.observe(during, true, refused);
  expect(health.trouble).toBeUndefined();
  expect(seen).toEqual(["unreachable", undefined]);
});

test("failing writes and another reason not to take traffic are both named, once when the reason already says why", () => {
  const { health } = watch();
  let waiting: string | undefined = "2 answers' ends are not saved yet";
  health.require(() => waiting);
  expect(health.trouble).toEqual({ kind: "writes-failing", reason: "2 answers' ends are not saved yet" });
  health.observe(health.begin(), true, diskFull);
  expect(health.trouble?.reason).toBe("the disk is full (No space left on device); 2 answers' ends are not saved yet");
  // The ends say the disk is full themselves (their own last failure): said once, not twice.
  waiting = "the disk is full (No space left on device); 2 answers' ends are not saved yet";
  expect(health.trouble?.reason).toBe(waiting);
  // A small write that fits clears the failing writes; the ends still name the full disk.
  health.observe(health.begin(), true);
  expect(health.trouble?.reason).toBe(waiting);
  waiting = undefined;
  expect(health.trouble).toBeUndefined();
});
