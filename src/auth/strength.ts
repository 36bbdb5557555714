/**
 * A password's strength, estimated by zxcvbn-ts on a worker thread. Its word lists and their
 * index took ~14 MB that stayed for the life of the process after the first set-up or password
 * change (docs/footprint.md); in a worker they go when it ends, IDLE_MS after its last estimate.
 * The worker with its lists held ~15 MB more while it waited, so it does not wait long: starting
 * it again costs ~130 ms, paid only by a form that sets a password.
 */
import type { FeedbackType } from "@zxcvbn-ts/core";
import { startWorker, type WorkerCalls } from "../worker-calls.ts";

export type StrengthRequest = { password: string; inputs: string[] };
export type Strength = { score: number; feedback: FeedbackType };

const IDLE_MS = 5_000;

/** Inside the compiled binary, module URLs are at the root of its files (src/); see transfer/renderer.ts. */
const WORKER = new URL(
  Bun.isStandaloneExecutable ? "./auth/strength-worker.ts" : "./strength-worker.ts",
  import.meta.url,
).href;

let worker: WorkerCalls<StrengthRequest, Strength> | undefined;
let idle: ReturnType<typeof setTimeout> | undefined;

function end() {
  clearTimeout(idle);
  worker?.close(new Error("the password estimator was stopped"));
  worker = undefined;
}

function started(): WorkerCalls<StrengthRequest, Strength> {
  if (worker) return worker;
  const w = startWorker<StrengthRequest, Strength>(WORKER, "estimating a password's strength", {
    onReply() {
      if (w.pending()) return;
      // Idle, it must not keep a process that is done from exiting (`parley user` estimates too).
      w.unref();
      idle = setTimeout(end, IDLE_MS).unref();
    },
    onFailure: end,
  });
  worker = w;
  return w;
}

/** zxcvbn's score (0-4) and feedback for `password`, with `inputs` counted as known to an attacker. */
export function estimateStrength(password: string, inputs: string[]): Promise<Strength> {
  const w = started();
  clearTimeout(idle);
  w.ref();
  return w.call({ password, inputs });
}
