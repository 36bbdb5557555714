/**
 * A password's strength, estimated by zxcvbn-ts on a worker thread. Its word lists and their
 * index took ~14 MB that stayed for the life of the process after the first set-up or password
 * change (docs/footprint.md); in a worker they go when it ends, IDLE_MS after its last estimate
 * (an admin adding several people reuses it).
 */
import type { FeedbackType } from "@zxcvbn-ts/core";

export type StrengthRequest = { id: number; password: string; inputs: string[] };
export type StrengthReply = { id: number; score: number; feedback: FeedbackType } | { id: number; error: string };
export type Strength = { score: number; feedback: FeedbackType };

const IDLE_MS = 30_000;

/** Inside the compiled binary, module URLs are at the root of its files (src/); see transfer/renderer.ts. */
const WORKER = new URL(
  Bun.isStandaloneExecutable ? "./auth/strength-worker.ts" : "./strength-worker.ts",
  import.meta.url,
).href;

/** TypeScript's DOM Worker lacks Bun's ref and unref. */
type RefWorker = Worker & { ref(): void; unref(): void };
let worker: RefWorker | undefined;
let idle: ReturnType<typeof setTimeout> | undefined;
let next = 0;
const waiting = new Map<number, { resolve(strength: Strength): void; reject(err: Error): void }>();

function end(err?: Error) {
  clearTimeout(idle);
  worker?.terminate();
  worker = undefined;
  for (const w of waiting.values()) w.reject(err ?? new Error("the password estimator was stopped"));
  waiting.clear();
}

function started(): RefWorker {
  if (worker) return worker;
  const w = new Worker(WORKER) as RefWorker;
  w.onmessage = (event: MessageEvent<StrengthReply>) => {
    const reply = event.data;
    const pending = waiting.get(reply.id);
    if (!pending) return;
    waiting.delete(reply.id);
    if ("error" in reply) pending.reject(new Error(`estimating a password's strength failed: ${reply.error}`));
    else pending.resolve({ score: reply.score, feedback: reply.feedback });
    if (waiting.size) return;
    // Idle, it must not keep a process that is done from exiting (`parley user` estimates too).
    w.unref();
    idle = setTimeout(() => end(), IDLE_MS).unref();
  };
  w.onerror = (event) => end(new Error(`the password estimator failed: ${event.message}`));
  worker = w;
  return w;
}

/** zxcvbn's score (0-4) and feedback for `password`, with `inputs` counted as known to an attacker. */
export function estimateStrength(password: string, inputs: string[]): Promise<Strength> {
  const w = started();
  clearTimeout(idle);
  w.ref();
  const id = next++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    w.postMessage({ id, password, inputs } satisfies StrengthRequest);
  });
}
