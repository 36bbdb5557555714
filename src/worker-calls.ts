/**
 * Calls to a worker thread and their replies, matched by id: work that would hold up every
 * stream, page and timer on the server's thread (rendering an import, estimating a password)
 * runs on one, and its memory goes when the worker ends.
 */
type Call<Req> = { id: number; request: Req };
type Reply<Res> = { id: number; result: Res } | { id: number; error: string };

/** TypeScript's DOM Worker lacks Bun's ref and unref. */
type RefWorker = Worker & { ref(): void; unref(): void };

export type WorkerCalls<Req, Res> = {
  call(request: Req): Promise<Res>;
  /** Calls sent and not yet answered. */
  pending(): number;
  /** Ends the worker; calls still waiting are refused with `err`. */
  close(err: Error): void;
  /** While unreferenced, the worker does not keep a process that is done from exiting. */
  ref(): void;
  unref(): void;
};

/**
 * A worker started from `url`; `what` names its work in errors. `onReply` runs after each reply
 * is handed over; `onFailure` when the worker itself fails (every waiting call is refused first).
 */
export function startWorker<Req, Res>(
  url: string,
  what: string,
  hooks: { onReply?(): void; onFailure?(err: Error): void } = {},
): WorkerCalls<Req, Res> {
  const worker = new Worker(url) as RefWorker;
  const waiting = new Map<number, { resolve(result: Res): void; reject(err: Error): void }>();
  let next = 0;
  const refuseAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.onmessage = (event: MessageEvent<Reply<Res>>) => {
    const reply = event.data;
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ("error" in reply) w.reject(new Error(`${what} failed: ${reply.error}`));
    else w.resolve(reply.result);
    hooks.onReply?.();
  };
  worker.onerror = (event) => {
    const err = new Error(`the worker for ${what} failed: ${event.message}`);
    refuseAll(err);
    hooks.onFailure?.(err);
  };
  return {
    call(request) {
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, request } satisfies Call<Req>);
      });
    },
    pending: () => waiting.size,
    close(err) {
      refuseAll(err);
      worker.terminate();
    },
    ref: () => worker.ref(),
    unref: () => worker.unref(),
  };
}

/** Inside the worker: answers each call with `work`'s result, or its error's message. */
export function answerCalls<Req, Res>(self: Worker, work: (request: Req) => Res): void {
  self.onmessage = (event: MessageEvent<Call<Req>>) => {
    const { id, request } = event.data;
    let reply: Reply<Res>;
    try {
      reply = { id, result: work(request) };
    } catch (err) {
      reply = { id, error: String((err as Error)?.message ?? err) };
    }
    self.postMessage(reply);
  };
}
