import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { topics } from "../../src/chat/broadcast.ts";
import { chats } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver, freshDatabase, type TestDb } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { finished, openSocket, type TestSocket } from "../support/ws.ts";

/** Parley's ping interval here, and the relay's idle cut: four intervals, as 25 s is to nginx's 60 s and more. */
const PING_MS = 500;
const PROXY_IDLE_MS = 2000;

type Relay = {
  url: string;
  /** Connections the relay has accepted, and how many of them it has cut for idleness. */
  accepted: number;
  cut: number;
  /** The last bytes the app sent towards a tab, whether or not they got through. */
  lastFromApp?: Uint8Array;
  /** From now on nothing passes either way and nothing is closed: the link went dead. */
  blackHole(): void;
  stop(): void;
};

type Side = { peer?: Socket<Side>; pending: Uint8Array[]; pair: Pair };
type Pair = { last: number; client?: Socket<Side>; server?: Socket<Side> };

/**
 * A TCP forwarder in front of Parley that behaves like a proxy with an idle timeout: a connection
 * with no byte in either direction for `idleMs` is cut on both sides (without a close frame, as
 * nginx does at `proxy_read_timeout`).
 */
function startRelay(target: string, idleMs: number): Relay {
  const { hostname, port } = new URL(target);
  const pairs = new Set<Pair>();
  let dead = false;
  const relay: Relay = {
    url: "",
    accepted: 0,
    cut: 0,
    blackHole: () => {
      dead = true;
    },
    stop() {
      clearInterval(watch);
      for (const p of pairs) {
        p.client?.end();
        p.server?.end();
      }
      listener.stop(true);
    },
  };
  const forward = (from: Side, data: Uint8Array) => {
    if (dead) return;
    from.pair.last = Date.now();
    if (from.peer) from.peer.write(data);
    else from.pending.push(new Uint8Array(data));
  };
  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        relay.accepted++;
        const pair: Pair = { last: Date.now(), client };
        pairs.add(pair);
        client.data = { pending: [], pair };
        void Bun.connect<Side>({
          hostname,
          port: Number(port),
          socket: {
            open(server) {
              pair.server = server;
              server.data = { peer: client, pending: [], pair };
              client.data.peer = server;
              for (const chunk of client.data.pending) server.write(chunk);
              client.data.pending = [];
            },
            data: (server, data) => {
              relay.lastFromApp = new Uint8Array(data);
              forward(server.data, data);
            },
            // A dead link carries no FIN either.
            close: () => {
              if (!dead) pair.client?.end();
            },
          },
        });
      },
      data: (client, data) => forward(client.data, data),
      close(client) {
        if (!dead) client.data.pair.server?.end();
        pairs.delete(client.data.pair);
      },
    },
  });
  relay.url = `http://127.0.0.1:${listener.port}`;
  const watch = setInterval(() => {
    for (const p of pairs) {
      if (dead || Date.now() - p.last < idleMs) continue;
      relay.cut++;
      pairs.delete(p);
      p.client?.end();
      p.server?.end();
    }
  }, 50);
  return relay;
}

const openSocketsOf = async (server: TestServer) => {
  // From 127.0.0.1, /metrics needs no token.
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^parley_open_sockets (\d+)/m.exec(text)?.[1]);
};

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

/** A tab's socket through the relay, as the browser opens it (the relay's address is its origin). */
const tabThrough = (relay: Relay, person: Person, path: string) =>
  openSocket(relay.url, path, { origin: relay.url, cookie: person.cookie });

const closed = (ws: TestSocket) =>
  new Promise<number>((resolve) => {
    if (ws.socket.readyState === WebSocket.CLOSED) resolve(-1);
    ws.socket.addEventListener("close", (e) => resolve(e.code), { once: true });
  });

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

eachDriver("keep-alive of tab sockets", (t: TestDb) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake, { SOCKET_PING_INTERVAL_MS: String(PING_MS) }));
  });
  afterAll(() => server.stop());

  const newChat = async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Quiet", model: "fake/fast" })
      .returning();
    return chat!;
  };

  test("a quiet tab survives a proxy that cuts idle connections, and still works afterwards", async () => {
    const relay = startRelay(server.url, PROXY_IDLE_MS);
    try {
      const chat = await newChat();
      const ws = await tabThrough(relay, server, `/ws?chat=${chat.id}`);
      await ws.waitFor((m) => m.includes('id="transcript-live"'));
      // Three times the proxy's idle timeout with nothing from the tab, nor from the app but pings.
      await Bun.sleep(3 * PROXY_IDLE_MS);
      expect(relay.cut).toBe(0);
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
      const heard = ws.messages.length;
      // The same connection still carries a send and its streamed answer.
      ws.send({ action: "send", chat: chat.id, content: "still there?" });
      const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from: heard });
      const id = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
      expect(await ws.waitFor(finished(id), { from: heard })).toContain('data-status="complete"');
      expect(relay.accepted).toBe(1);
      await ws.close();
    } finally {
      relay.stop();
    }
  });

  test("without pings more often than the proxy's idle timeout, the same proxy cuts the tab", async () => {
    // The converse, so the test above can fail: pings every 10 s, a cut after 2 s of silence. On a
    // database of its own: beside the suite's server on Postgres, it would be a second instance,
    // told by the first (silent while alone) to have its tabs read afresh, which closes this one.
    const own = await freshDatabase(t.driver);
    const slow = await startTestServer(own, fakeEnv(fake, { SOCKET_PING_INTERVAL_MS: "10000" }));
    const relay = startRelay(slow.url, PROXY_IDLE_MS);
    try {
      const ws = await tabThrough(relay, slow, "/ws");
      const code = closed(ws);
      await until("the relay cutting the quiet socket", () => relay.cut === 1, 3 * PROXY_IDLE_MS);
      expect(await code).toBe(1006);
    } finally {
      relay.stop();
      await slow.stop();
      await own.close();
    }
  });

  test("a tab that vanishes without a close frame is closed after a ping it does not answer, and leaves nothing behind", async () => {
    const relay = startRelay(server.url, 60_000);
    try {
      const chat = await newChat();
      const bun = server.app.server!;
      await until("no sockets left from the tests before", async () => (await openSocketsOf(server)) === 0, 5000);
      const ws = await tabThrough(relay, server, `/ws?chat=${chat.id}`);
      await ws.waitFor((m) => m.includes('id="transcript-live"'));
      // And the sidebar, read for the socket as it opened: sent after the link went dead, it would
      // be the app's last frame instead of the ping (seen once in CI).
      await ws.waitFor((m) => m.includes('id="chat-nav"'));
      await ws.waitFor((m) => m.includes('id="project-groups"'));
      expect(await openSocketsOf(server)).toBe(1);
      expect(bun.subscriberCount(topics.chat(chat.id))).toBe(1);
      expect(bun.subscriberCount(topics.user(server.user.id))).toBe(1);
      // The link goes dead: the app's pings go unanswered, and no FIN or close frame ever comes.
      relay.blackHole();
      await until("the server letting the vanished tab go", async () => (await openSocketsOf(server)) === 0, 10_000);
      // Let go by the keep-alive: the last thing the app sent was a ping (a WebSocket frame with
      // FIN and opcode 0x9), which went unanswered; no close frame followed it.
      expect(relay.lastFromApp?.[0]).toBe(0x89);
      // The close handler ran: out of the registry, and off the chat's and the sidebar's topics.
      expect(server.app.decorator.sockets.size).toBe(0);
      expect(bun.subscriberCount(topics.chat(chat.id))).toBe(0);
      expect(bun.subscriberCount(topics.user(server.user.id))).toBe(0);
      // The tab itself never heard a thing (its link is dead); the relay closed nothing.
      expect(ws.socket.readyState).toBe(WebSocket.OPEN);
      expect(relay.cut).toBe(0);
    } finally {
      relay.stop();
    }
  });
});
