/**
 * A TCP proxy in front of a server (Postgres), to make the network between Parley and it fail on
 * command. Point DATABASE_URL at `proxy.url(realUrl)`.
 */
import type { Socket, TCPSocketListener } from "bun";

export type TcpProxy = {
  port: number;
  /** The same URL with its host and port replaced by the proxy's. */
  url(target: string): string;
  /**
   * The server is gone, its host up: every open connection is reset (RST; `"close"`: closed
   * with a FIN, as a stopping server does) and new ones are refused (ECONNREFUSED) until
   * `restore()`.
   */
  cut(how?: "reset" | "close"): void;
  /**
   * The network is gone: connections stay open and new ones are accepted, but nothing gets
   * through either way. What was sent meanwhile is held and delivered on `restore()`, as TCP
   * would once a partition heals.
   */
  blackhole(): void;
  /** Back to forwarding (and listening again after a cut). */
  restore(): void;
  /** Connections open through the proxy now. */
  readonly open: number;
  stop(): void;
};

type Pair = {
  client: Socket<Pair>;
  /** Set once the proxy dials the server for this client. */
  dialed: boolean;
  server?: Socket<undefined>;
  /** Bytes from the client the server has not been given yet (connecting, blackholed or backpressure). */
  toServer: Uint8Array[];
  /** Bytes from the server the client has not been given yet. */
  toClient: Uint8Array[];
  /** The server closed it while blackholed: the client hears of it (a reset) only on `restore()`. */
  serverGone: boolean;
  closed: boolean;
};

/** Starts a proxy on 127.0.0.1 (a free port) forwarding to `target` (host:port or a URL). */
export function startTcpProxy(target: string): TcpProxy {
  const { hostname, port: targetPort } = new URL(target.includes("://") ? target : `tcp://${target}`);
  const pairs = new Set<Pair>();
  let mode: "forward" | "blackhole" | "cut" = "forward";
  let listener: TCPSocketListener<Pair> | undefined;
  let port = 0;

  const flush = (chunks: Uint8Array[], to: Socket<Pair> | Socket<undefined> | undefined) => {
    if (!to || mode !== "forward") return;
    while (chunks.length) {
      const chunk = chunks[0]!;
      const written = to.write(chunk);
      if (written < chunk.length) {
        // Backpressure: the rest waits for `drain`.
        chunks[0] = chunk.subarray(Math.max(written, 0));
        return;
      }
      chunks.shift();
    }
  };
  const close = (pair: Pair, reset: boolean) => {
    if (pair.closed) return;
    pair.closed = true;
    pairs.delete(pair);
    if (reset) {
      pair.client.terminate();
      pair.server?.terminate();
    } else {
      pair.client.end();
      pair.server?.end();
    }
  };
  const serverClosed = (pair: Pair, reset: boolean) => {
    if (mode === "blackhole") pair.serverGone = true;
    else close(pair, reset);
  };
  const connectUpstream = async (pair: Pair) => {
    pair.dialed = true;
    try {
      pair.server = await Bun.connect({
        hostname,
        port: Number(targetPort),
        socket: {
          data(_, chunk) {
            pair.toClient.push(new Uint8Array(chunk));
            flush(pair.toClient, pair.client);
          },
          drain: () => flush(pair.toClient, pair.client),
          close: () => serverClosed(pair, false),
          error: () => serverClosed(pair, true),
        },
      });
      if (pair.closed) pair.server.end();
      else flush(pair.toServer, pair.server);
    } catch {
      // The server refuses: so does the proxy, as abruptly.
      close(pair, true);
    }
  };
  const listen = () => {
    listener = Bun.listen<Pair>({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(client) {
          const pair: Pair = { client, dialed: false, toServer: [], toClient: [], serverGone: false, closed: false };
          client.data = pair;
          pairs.add(pair);
          // Through a dead network not even the connection reaches the server.
          if (mode === "forward") void connectUpstream(pair);
        },
        data(client, chunk) {
          client.data.toServer.push(new Uint8Array(chunk));
          flush(client.data.toServer, client.data.server);
        },
        drain: (client) => flush(client.data.toServer, client.data.server),
        close: (client) => close(client.data, false),
        error: (client) => close(client.data, true),
      },
    });
    port = listener.port;
  };
  listen();

  return {
    get port() {
      return port;
    },
    url(url: string) {
      const proxied = new URL(url);
      proxied.hostname = "127.0.0.1";
      proxied.port = String(port);
      return proxied.toString();
    },
    cut(how = "reset") {
      mode = "cut";
      // Before the listener goes: stopping it closes them gently (FIN) first.
      for (const pair of [...pairs]) close(pair, how === "reset");
      listener?.stop(true);
      listener = undefined;
    },
    blackhole() {
      if (mode === "cut") listen();
      mode = "blackhole";
    },
    restore() {
      if (mode === "cut") listen();
      mode = "forward";
      for (const pair of [...pairs]) {
        if (pair.serverGone) close(pair, true);
        else if (!pair.dialed) void connectUpstream(pair);
        else {
          flush(pair.toServer, pair.server);
          flush(pair.toClient, pair.client);
        }
      }
    },
    get open() {
      return pairs.size;
    },
    stop() {
      listener?.stop(true);
      listener = undefined;
      for (const pair of [...pairs]) close(pair, true);
    },
  };
}
