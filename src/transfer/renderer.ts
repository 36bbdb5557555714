/**
 * Renders an import's answers (Markdown to HTML, as an answer's end does) on a worker thread. An
 * answer may be 500,000 characters, and some Markdown takes a second or more to render: on the
 * server's thread that held up every stream, page and timer meanwhile (a file of such answers
 * stalled the process for tens of seconds), and no slicing helps when one answer is the slow part.
 */
export type RenderRequest = { id: number; texts: string[] };
export type RenderReply = { id: number; html: string[] } | { id: number; error: string };

export type Renderer = {
  /** Each text's HTML, in order. */
  render(texts: string[]): Promise<string[]>;
  /** Ends the worker; renders still waiting are refused. */
  close(): void;
};

/**
 * The worker's entry point. Inside the compiled binary every module's import.meta.url is the
 * binary's own, at the root of its files (src/), and the worker is a separate entry point under
 * transfer/ (package.json's build lists it).
 */
const WORKER = new URL(
  Bun.isStandaloneExecutable ? "./transfer/render-worker.ts" : "./render-worker.ts",
  import.meta.url,
).href;

/** A worker of its own: one import at a time uses it, then closes it (its memory goes with it). */
export function startRenderer(): Renderer {
  const worker = new Worker(WORKER);
  const waiting = new Map<number, { resolve(html: string[]): void; reject(err: Error): void }>();
  let next = 0;
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.onmessage = (event: MessageEvent<RenderReply>) => {
    const reply = event.data;
    const w = waiting.get(reply.id);
    if (!w) return;
    waiting.delete(reply.id);
    if ("error" in reply) w.reject(new Error(`rendering an imported answer failed: ${reply.error}`));
    else w.resolve(reply.html);
  };
  worker.onerror = (event) => failAll(new Error(`the import's renderer failed: ${event.message}`));
  return {
    render(texts) {
      if (!texts.length) return Promise.resolve([]);
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.postMessage({ id, texts } satisfies RenderRequest);
      });
    },
    close() {
      failAll(new Error("the import's renderer was closed"));
      worker.terminate();
    },
  };
}
