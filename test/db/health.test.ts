import { afterEach, expect, test } from "bun:test";
import { createDbHealth, type DbHealth } from "../../src/db/health.ts";

// The rules by which one process decides its database is in trouble, driven statement by statement
// as client.ts drives them. The outage itself is tested for real in test/db/outage.test.ts.

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
const diskFull = Object.assign(new Error("could not extend file: No space left on device"), { code: "53100" });

let health: DbHealth | undefined;
afterEach(() => health?.close());

function watch(opts: { writeTroubleMs?: number } = {}) {
  const seen: (string | undefined)[] = [];
  health = createDbHealth(async () => {}, opts);
  health.onChange((trouble) => seen.push(trouble?.kind));
  return { health, seen };
}

test("a write sent during an outage that fails after a later write succeeded leaves no trouble", () => {
  const { health, seen } = watch();
  const early = health.begin();
  const failing = health.begin();
  health.observe(failing, true, refused);
  expect(health.trouble?.kind).toBe("unreachable");
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

test("a failure sent after the last success still counts", () => {
  const { health } = watch();
  const ok = health.begin();
  health.observe(ok, true);
  const after = health.begin();
  health.observe(after, true, refused);
  expect(health.trouble?.kind).toBe("unreachable");
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
