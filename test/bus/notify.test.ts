import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { openPeerBus, pack } from "../../src/bus/notify.ts";
import { silentLogger } from "../../src/log.ts";
import { DRIVERS, freshDatabase } from "../support/db.ts";

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

describe.if(DRIVERS.includes("postgres"))("an instance alone", () => {
  test("sends an answer's words only once another instance is there; that one hears them, and never the bus's own 'here'", async () => {
    const t = await freshDatabase("postgres");
    const heard: string[] = [];
    const raw = postgres(t.url!, { max: 1, onnotice: () => {} });
    await raw.listen("parley", (payload) => heard.push(payload));
    const onlyForPeers = (e: unknown) => (e as { kind?: string }).kind === "delta";
    const gotB: unknown[] = [];
    const a = openPeerBus({ url: t.url!, log: silentLogger, receive: () => {}, resync: () => {}, onlyForPeers });
    let b: ReturnType<typeof openPeerBus> | undefined;
    try {
      await a.ready;
      a.send({ kind: "delta", n: 1 });
      a.send({ kind: "html", n: 2 });
      await until(() => heard.some((p) => p.includes('"n":2')));
      // The words went nowhere; the rest went as ever.
      expect(heard.some((p) => p.includes('"n":1'))).toBe(false);

      b = openPeerBus({
        url: t.url!,
        log: silentLogger,
        receive: (events) => gotB.push(...events),
        resync: () => {},
        onlyForPeers,
      });
      await b.ready;
      // A hears B's "here" and from then on sends the words too.
      let n = 3;
      await until(() => {
        a.send({ kind: "delta", n: n++ });
        return gotB.length > 0;
      });
      expect(gotB.every((e) => (e as { kind: string }).kind === "delta")).toBe(true);
      expect(heard.some((p) => p.includes('"bus":"here"'))).toBe(true);
    } finally {
      await b?.close();
      await a.close();
      await raw.end();
      await t.close();
    }
  });
});

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("not within 5 s");
    await Bun.sleep(50);
  }
}
