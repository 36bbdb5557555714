import { describe, expect, test } from "bun:test";
import { pack } from "../../src/bus/notify.ts";

describe("packing events into notifications", () => {
  const event = (i: number, filler: string) => JSON.stringify({ i, text: filler });

  test("keeps every event once, in order, each notification under Postgres's 8,000-byte limit", () => {
    // Multi-byte text: the limit is in bytes, not characters.
    const events = Array.from({ length: 300 }, (_, i) => event(i, "é€😀 ".repeat(i % 40)));
    const packed = pack(events);
    expect(packed.length).toBeGreaterThan(5);
    expect(packed.some((p) => p.big)).toBe(false);
    for (const p of packed) expect(Buffer.byteLength(p.json) + 100).toBeLessThan(8000);
    expect(packed.flatMap((p) => JSON.parse(p.json).map((e: { i: number }) => e.i))).toEqual(events.map((_, i) => i));
  });

  test("an event too large for any notification travels alone, marked to go through bus_events, in its place", () => {
    const events = [event(0, "small"), event(1, "x".repeat(9000)), event(2, "small"), event(3, "😀".repeat(2000))];
    const packed = pack(events);
    expect(packed.map((p) => p.big)).toEqual([false, true, false, true]);
    expect(packed.map((p) => JSON.parse(p.json).map((e: { i: number }) => e.i))).toEqual([[0], [1], [2], [3]]);
  });
});
