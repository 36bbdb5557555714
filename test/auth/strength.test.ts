import { expect, test } from "bun:test";
import { estimateStrength } from "../../src/auth/strength.ts";

test("estimates asked for together each get their own answer from the worker", async () => {
  const passwords = [
    "1234512345",
    "correct horse battery staple",
    "qwertyuiop1",
    "ann-ann-ann-2026",
    "zebra quilt mango",
  ];
  const estimates = await Promise.all(passwords.map((p) => estimateStrength(p, ["ann", "parley"])));
  const scores = estimates.map((e) => e.score);
  // Each reply matches its own password: the same estimates asked one at a time agree.
  for (const [i, p] of passwords.entries())
    expect((await estimateStrength(p, ["ann", "parley"])).score).toBe(scores[i]!);
  expect(scores[0]).toBeLessThan(3);
  expect(scores[1]).toBeGreaterThanOrEqual(3);
  expect(estimates[0]!.feedback.warning).toBeTruthy();
});

test("the username counts as known to an attacker", async () => {
  const unknown = await estimateStrength("marguerite1987", ["ann"]);
  const known = await estimateStrength("marguerite1987", ["marguerite"]);
  expect(known.score).toBeLessThan(unknown.score);
});
