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
  const ALONE_MS = 300;
  type Bus = ReturnType<typeof openPeerBus>;

  /** Two buses on one database: `a` alone long enough to go silent, then `b` starting. */
  async function setting(
    run: (s: {
      a: Bus;
      heard: string[];
      startB: () => Promise<{ got: unknown[]; resyncs: () => number }>;
    }) => Promise<void>,
  ) {
    const t = await freshDatabase("postgres");
    const heard: string[] = [];
    const raw = postgres(t.url!, { max: 1, onnotice: () => {} });
    await raw.listen("parley", (payload) => heard.push(payload));
    const onlyForPeers = (e: unknown) => (e as { kind?: string }).kind === "delta";
    const opts = { url: t.url!, log: silentLogger, aloneAfterMs: ALONE_MS, onlyForPeers };
    const a = openPeerBus({ ...opts, receive: () => {}, resync: () => {} });
    let b: Bus | undefined;
    try {
      await a.ready;
      await run({
        a,
        heard,
        startB: async () => {
          const got: unknown[] = [];
          let resyncs = 0;
          b = openPeerBus({ ...opts, receive: (events) => got.push(...events), resync: () => resyncs++ });
          await b.ready;
          return { got, resyncs: () => resyncs };
        },
      });
    } finally {
      await b?.close();
      await a.close();
      await raw.end();
      await t.close();
    }
  }

  test("sends while others may be there (words only once one is heard), nothing once it has heard nobody for a while, all again once one is there", async () => {
    await setting(async ({ a, heard, startB }) => {
      // Just started: another instance may be there, unheard yet; an answer's words wait for one.
      a.send({ kind: "delta", n: 0 });
      a.send({ kind: "html", n: 1 });
      await until(() => heard.some((p) => p.includes('"n":1')));
      expect(heard.some((p) => p.includes('"n":0'))).toBe(false);
      await Bun.sleep(ALONE_MS + 100);
      a.send({ kind: "delta", n: 2 });
      a.send({ kind: "html", n: 3 });
      a.send({ kind: "sessions", n: 4 });
      await Bun.sleep(300);
      expect(heard.filter((p) => /"n":[234]\b/.test(p))).toEqual([]);

      const b = await startB();
      // A hears B's "here" and from then on sends everything.
      let n = 10;
      await until(() => {
        a.send({ kind: "delta", n: n++ });
        a.send({ kind: "html", n: n++ });
        return b.got.length > 1;
      });
      expect(b.got.every((e) => (e as { n: number }).n >= 10)).toBe(true);
      expect(new Set(b.got.map((e) => (e as { kind: string }).kind))).toEqual(new Set(["delta", "html"]));
    });
  });

  test("a new instance that no other answers is alone within moments, not after the long wait; one that is answered is not", async () => {
    const t = await freshDatabase("postgres");
    const heard: string[] = [];
    const raw = postgres(t.url!, { max: 1, onnotice: () => {} });
    await raw.listen("parley", (payload) => heard.push(payload));
    // Alone only after a minute unheard, but a newcomer waits 300 ms for an answer to its "here".
    const opts = { url: t.url!, log: silentLogger, aloneAfterMs: 60_000, answeredWithinMs: 300 };
    const a = openPeerBus({ ...opts, receive: () => {}, resync: () => {} });
    let b: ReturnType<typeof openPeerBus> | undefined;
    try {
      await a.ready;
      a.send({ kind: "html", n: 1 });
      await until(() => heard.some((p) => p.includes('"n":1')));
      await Bun.sleep(400);
      a.send({ kind: "html", n: 2 });
      // B starts after A went silent: A answers B's "here" at once, so B is never alone.
      const got: unknown[] = [];
      b = openPeerBus({ ...opts, receive: (events) => got.push(...events), resync: () => {} });
      await b.ready;
      await until(() => heard.some((p) => p.includes('"silent":true')));
      expect(heard.some((p) => p.includes('"n":2'))).toBe(false);
      await Bun.sleep(400);
      b.send({ kind: "html", n: 3 });
      await until(() => heard.some((p) => p.includes('"n":3')));
      a.send({ kind: "html", n: 4 });
      await until(() => got.length > 0);
      expect(got).toEqual([{ kind: "html", n: 4 }]);
    } finally {
      await b?.close();
      await a.close();
      await raw.end();
      await t.close();
    }
  });

  test("an instance heard after a silence reads its tabs afresh, as they may have missed what was not sent", async () => {
    await setting(async ({ a, heard, startB }) => {
      await Bun.sleep(ALONE_MS + 100);
      a.send({ kind: "html", n: 1 });
      const b = await startB();
      await until(() => heard.some((p) => p.includes('"silent":true')));
      a.send({ kind: "html", n: 2 });
      await until(() => b.got.length > 0);
      // Its silence is told once: the events after it, in order, and one resynchronisation.
      expect(b.got).toEqual([{ kind: "html", n: 2 }]);
      expect(b.resyncs()).toBe(1);
    });
  });

  test("an instance that kept nothing back while alone does not make the next one read afresh", async () => {
    await setting(async ({ a, heard, startB }) => {
      await Bun.sleep(ALONE_MS + 100);
      const b = await startB();
      // A's start, B's start, and A's answer to B (A heard B).
      await until(() => heard.filter((p) => p.includes('"bus":"here"')).length >= 3);
      a.send({ kind: "html", n: 1 });
      // B hears A's events in the order A sent them: its "here" came before this one.
      await until(() => b.got.length > 0);
      expect(b.resyncs()).toBe(0);
      expect(heard.some((p) => p.includes('"silent"'))).toBe(false);
    });
  });
});

async function until(check: () => boolean, ms = 5000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("not within 5 s");
    await Bun.sleep(50);
  }
}
