/** A WebSocket client as the browser's htmx-ext-ws is one: it sends forms as JSON, with an Origin. */
export type TestSocket = {
  messages: string[];
  /** Resolves with the first message (from index `from` on) that matches. */
  waitFor(match: (html: string) => boolean, opts?: { from?: number; timeoutMs?: number }): Promise<string>;
  send(frame: unknown): void;
  close(): Promise<void>;
  socket: WebSocket;
};

export async function openSocket(
  baseUrl: string,
  path: string,
  opts: { origin?: string; cookie?: string } = {},
): Promise<TestSocket> {
  const headers: Record<string, string> = { Origin: opts.origin ?? baseUrl };
  if (opts.cookie) headers.Cookie = opts.cookie;
  const socket = new WebSocket(baseUrl.replace(/^http/, "ws") + path, { headers } as never);
  const messages: string[] = [];
  const waiters = new Set<() => void>();
  socket.addEventListener("message", (event) => {
    messages.push(String(event.data));
    for (const wake of waiters) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`WebSocket to ${path} failed`)), { once: true });
  });
  return {
    messages,
    socket,
    waitFor(match, { from = 0, timeoutMs = 15_000 } = {}) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.slice(from).find(match);
          if (found === undefined) return false;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          // What did arrive, in short, and whether the socket is still open: a failure in CI says where the stream stopped.
          const last = messages
            .slice(-3)
            .map((m) => `  ${m.length > 240 ? `${m.slice(0, 160)} … ${m.slice(-80)}` : m}`)
            .join("\n");
          reject(
            new Error(
              `no matching WebSocket message within ${timeoutMs} ms; got ${messages.length} (socket ${["connecting", "open", "closing", "closed"][socket.readyState]}), the last:\n${last}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(check);
      });
    },
    send: (frame) => socket.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    close: () =>
      new Promise((resolve) => {
        if (socket.readyState === WebSocket.CLOSED) return resolve();
        socket.addEventListener("close", () => resolve(), { once: true });
        socket.close();
      }),
  };
}

/**
 * The end fragment of the answer a socket's snapshot (its transcript-live fragment) shows being
 * written, once it comes; undefined when it shows none (one that ended before the socket
 * subscribed is whole in the snapshot, and no end follows it). A send while it is written is refused.
 */
export async function endOfShown(ws: TestSocket, snapshot: string): Promise<string | undefined> {
  const writing = /<article id="msg-([0-9a-f-]+)" data-role="assistant" data-status="streaming"/.exec(snapshot)?.[1];
  return writing && ws.waitFor(finished(writing));
}

/** Whether a pushed fragment finishes answer `id` (the whole article, no longer streaming). */
export const finished = (id: string) => (html: string) =>
  html.includes(`<article id="msg-${id}" hx-swap-oob="true"`) && !html.includes('data-status="streaming"');
