import { expect, test } from "bun:test";
import { collectAfterBursts } from "../src/idle-collection.ts";

const MB = 1024 * 1024;

/** Runs the policy over `readings` (one per look) and returns the looks at which it collected. */
async function collectionsOver(readings: number[], busy: number[] = [], afterStart = false): Promise<number[]> {
  const collected: number[] = [];
  const released: number[] = [];
  let look = -1;
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const stop = collectAfterBursts({
    everyMs: 1,
    growthBytes: 8 * MB,
    used: () => {
      look++;
      if (look === readings.length - 1) resolve();
      return readings[Math.min(look, readings.length - 1)]!;
    },
    busyShare: () => busy[look] ?? 0,
    collect: () => collected.push(look),
    alsoRelease: () => released.push(look),
    afterStart,
  });
  await done;
  stop();
  // What else gives memory back (the embedded database's zero pages) follows each collection.
  expect(released).toEqual(collected);
  return collected;
}

test("memory grown past the allowance above its lowest asks for one collection, then measures again from there", async () => {
  // 20 → 25 (within 8 MB) → 40 (20 over the floor): collect; 22 after it is the new floor;
  // 29 is within 8 of it; 31 is not.
  expect(await collectionsOver([20 * MB, 25 * MB, 40 * MB, 22 * MB, 29 * MB, 31 * MB, 31 * MB])).toEqual([2, 5]);
});

test("memory that only shrinks or holds steady is left alone", async () => {
  expect(await collectionsOver([60 * MB, 50 * MB, 50 * MB, 40 * MB, 47 * MB, 47 * MB])).toEqual([]);
});

test("live memory that grew stays the floor after its collection: no collection at every look", async () => {
  // Streams start: the heap grows for good. One collection, then the larger heap is the floor.
  expect(await collectionsOver([20 * MB, 60 * MB, 58 * MB, 60 * MB, 62 * MB, 61 * MB])).toEqual([1]);
});

test("under load nothing is collected; once the process is quiet, what the burst left is", async () => {
  // The heap grows while the process is busy (a core at 60-90%): left to the engine. Quiet at
  // look 4, still 30 MB over the floor: collected then.
  expect(
    await collectionsOver([20 * MB, 40 * MB, 70 * MB, 50 * MB, 50 * MB, 21 * MB, 21 * MB], [0, 0.9, 0.6, 0.8, 0.02]),
  ).toEqual([4]);
});

test("after start, the first quiet look collects once, then only growth does", async () => {
  // Busy starting (looks 0-1), quiet at look 2: collected; steady after; 20 over the new floor at 6.
  expect(
    await collectionsOver([30 * MB, 30 * MB, 30 * MB, 25 * MB, 25 * MB, 26 * MB, 45 * MB, 45 * MB], [0.9, 0.5], true),
  ).toEqual([2, 6]);
});
