import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Socket } from "node:net";
import { chats } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

let fake: FakeUpstream;
let t: TestDb;
let server: TestServer;
beforeAll(async () => {
  fake = startFakeUpstream();
  // Back-pressure is the server's, not the database's: one driver is enough.
  t = await freshDatabase("pglite");
  server = await startTestServer(t, fakeEnv(fake));
});
afterAll(async () => {
  await server.stop();
  await t.close();
  await fake.stop();
});

/** A WebSocket client that completes the handshake and then never reads again. */
function stalledSocket(path: string): Promise<Socket> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        [
          `GET ${path} HTTP/1.1`,
          `Host: ${url.host}`,
          "Upgrade: websocket",
          "Connection: Upgrade",
          `Sec-WebSocket-Key: ${Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64")}`,
          "Sec-WebSocket-Version: 13",
          `Origin: ${server.url}`,
          `Cookie: ${server.cookie}`,
          "",
          "",
        ].join("\r\n"),
      );
    });
    socket.once("data", (head) => {
      if (!head.toString().startsWith("HTTP/1.1 101")) reject(new Error(head.toString().split("\r\n")[0]));
      socket.pause(); // from here on nothing is read: the kernel buffers fill, then the server's
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

test("a tab that stops reading is closed once its backlog passes the limit; the others get every frame", async () => {
  const [chat] = await t.database.db
    .insert(chats)
    .values({ userId: server.user.id, title: "Long", model: "fake/fast" })
    .returning();
  // One long paragraph of emphasis: every frame adds markup, so each re-sends the open paragraph
  // (plain words would be appended as text alone) and the backlog grows fast.
  fake.queue({ text: "*word* ".repeat(40_000), tokenSize: 210, tokenDelayMs: 1 });
  const reader = await server.socket(`/ws?chat=${chat!.id}`);
  await reader.waitFor((m) => m.includes('id="transcript-live"'));
  const stalled = await stalledSocket(`/ws?chat=${chat!.id}`);
  const registry = server.app.decorator.sockets;
  expect(registry.size).toBe(2);

  const from = reader.messages.length;
  reader.send({ action: "send", chat: chat!.id, content: "a very long answer, please" });
  const started = await reader.waitFor((m) => m.includes('data-status="streaming"'), { from });
  const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
  const done = await reader.waitFor(finished(id), { from, timeoutMs: 60_000 });
  expect(done).toContain('data-status="complete"');
  // The reader kept up and stayed; the stalled tab was let go rather than buffered without end.
  expect(reader.socket.readyState).toBe(WebSocket.OPEN);
  expect(registry.size).toBe(1);
  stalled.destroy();
  await reader.close();
}, 90_000);
