import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/** The value of one series in Prometheus's text format, or undefined. */
function value(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

eachDriver("/metrics", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  test("counts sockets, answers, pieces relayed, upstream errors by status, first-token time and requests by route", async () => {
    const scrape = async () => {
      const res = await fetch(`${server.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
      return res.text();
    };
    const before = await scrape();
    expect(value(before, "parley_open_sockets")).toBe(0);
    expect(value(before, "parley_generations_in_flight")).toBe(0);
    expect(value(before, "parley_process_resident_memory_bytes")).toBeGreaterThan(0);

    const made = await server.fetch("/chats", { method: "POST", body: new URLSearchParams({ content: "count me" }) });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    // Let the first answer end and the model name the chat (it asks the upstream too), then start a slow one.
    for (let i = 0; i < 400; i++) {
      const [chat] = await t.database.rows<{ title: string }>(sql`select title from chats where id = ${chatId}`);
      if (chat?.title !== "count me" && value(await scrape(), "parley_generations_in_flight") === 0) break;
      await Bun.sleep(25);
    }
    fake.queue({ text: "slow ".repeat(80), tokenDelayMs: 20 });
    const during = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content: "slowly" });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from: during });
    const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    await ws.waitFor((m) => m.startsWith(`<div id="msg-${answerId}-`), { from: during }); // a first frame
    const live = await scrape();
    expect(value(live, "parley_open_sockets")).toBe(1);
    expect(value(live, "parley_generations_in_flight")).toBe(1);
    await ws.waitFor(finished(answerId), { from: during });

    fake.queue({ status: 401 });
    const failing = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content: "fail please" });
    await ws.waitFor((m) => m.includes('data-status="error"'), { from: failing });
    await ws.close();
    await (await server.fetch(`/chats/${chatId}`)).text();

    const after = await scrape();
    expect(value(after, "parley_tokens_relayed_total")).toBeGreaterThan(80);
    expect(value(after, 'parley_upstream_errors_total{status="401"}')).toBe(1);
    expect(value(after, "parley_upstream_first_token_seconds_count")).toBeGreaterThanOrEqual(2);
    expect(
      value(after, 'parley_http_request_duration_seconds_count{method="GET",route="/chats/:id",status="200"}'),
    ).toBeGreaterThanOrEqual(1);
    expect(value(after, 'parley_http_request_duration_seconds_count{method="POST",route="/chats",status="303"}')).toBe(
      1,
    );
    // Ids never become labels.
    expect(after).not.toContain(chatId);
  });

  test("database pool use: connections, statements in flight (waiting ones included) and the peak since the last scrape", async () => {
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    expect(value(await scrape(), "parley_db_pool_connections")).toBe(t.driver === "pglite" ? 1 : 5);
    // A transaction holds a lock; three reads wait on it (PGlite: behind it), so four are in flight.
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked = () => {};
    const holding = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const transaction = t.database.db.transaction(async (tx) => {
      await tx.execute(sql`lock table site_settings in access exclusive mode`);
      locked();
      await gate;
    });
    await holding;
    const reads = [1, 2, 3].map(() => t.database.rows(sql`select count(*) from site_settings`));
    const during = await scrape();
    expect(value(during, "parley_db_queries_in_flight")).toBeGreaterThanOrEqual(4);
    expect(value(during, "parley_db_queries_in_flight_peak")).toBeGreaterThanOrEqual(4);
    release();
    await Promise.all([transaction, ...reads]);
    // A first scrape resets the peak from the busy moment; the server's own sweeps may be in flight
    // at any later look, so the first later one that finds none is the one read.
    await scrape();
    let quiet = await scrape();
    for (let i = 0; i < 100 && value(quiet, "parley_db_queries_in_flight") !== 0; i++) {
      await Bun.sleep(20);
      quiet = await scrape();
    }
    // Quiet since the scrape before: the peak was reset to what is in flight.
    expect(value(quiet, "parley_db_queries_in_flight")).toBe(0);
    expect(value(quiet, "parley_db_queries_in_flight_peak")).toBeLessThan(4);
  });

  test("only this machine may read it, not through a proxy; with METRICS_TOKEN, whoever has the token", async () => {
    expect((await fetch(`${server.url}/metrics`, { headers: { "x-forwarded-for": "203.0.113.9" } })).status).toBe(403);
    const guarded = await startTestServer(t, { METRICS_TOKEN: "scrape-secret" });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      const ok = await fetch(`${guarded.url}/metrics`, { headers: { authorization: "Bearer scrape-secret" } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("parley_open_sockets 0");
    } finally {
      await guarded.stop();
    }
  });
});
