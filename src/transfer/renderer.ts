/**
 * Renders an import's answers (Markdown to HTML, as an answer's end does) on a worker thread. An
 * answer may be 500,000 characters, and some Markdown takes a second or more to render: on the
 * server's thread that held up every stream, page and timer meanwhile (a file of such answers
 * stalled the process for tens of seconds), and no slicing helps when one answer is the slow part.
 */
import { startWorker } from "../worker-calls.ts";

/** Texts in, each one's HTML out, in order. */
export type RenderRequest = string[];
export type RenderResult = string[];

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
  const worker = startWorker<RenderRequest, RenderResult>(WORKER, "rendering an imported answer");
  return {
    render: (texts) => (texts.length ? worker.call(texts) : Promise.resolve([])),
    close: () => worker.close(new Error("the import's renderer was closed")),
  };
}
