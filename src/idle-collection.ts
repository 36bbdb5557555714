/**
 * Returns memory after a burst of work instead of at the next one. JavaScriptCore collects when
 * its heap has grown by a share of its size, and Bun's own timer when it has grown by 32 MB: after
 * 50 chat pages opened one after another, ~30 MB of garbage objects (with their strings, ~45 MB
 * of RSS) stayed until something else ran (docs/footprint.md). Every `everyMs`, a process whose
 * RSS has grown by more than `growthBytes` above its lowest since the last collection shrinks
 * (see shrink), but only once it is quiet: under load the engine collects on its own, and
 * collections of ours on top only added CPU (bench/realistic.ts: 1-5 points more without this
 * check). RSS, not the heap's size: what a burst leaves is also compiled code and the allocator's
 * blocks, and the heap's size missed the 50 tabs' burst in one run of four (8 MB exactly).
 */
export function collectAfterBursts({
  everyMs = 2000,
  growthBytes = 8 * 1024 * 1024,
  /** The share of one core the process may use for the interval to count as quiet. */
  quietShare = 0.1,
  used = () => process.memoryUsage.rss(),
  busyShare = cpuShare(),
  collect = shrink,
  /** What else gives memory back after the collection (the embedded database's zero pages). */
  alsoRelease = undefined as (() => unknown) | undefined,
  /** Also once at the first quiet look: what starting left (its garbage, its compiled code) is no use after. */
  afterStart = true,
} = {}): () => void {
  let floor = Number.POSITIVE_INFINITY;
  // Whether the one shrink after start is still to come.
  let startPending = afterStart;
  const timer = setInterval(() => {
    const now = used();
    const quiet = busyShare(everyMs) < quietShare;
    if (quiet && (startPending || now - floor > growthBytes)) {
      startPending = false;
      collect();
      alsoRelease?.();
      // The next look, after the collection, sets the floor again.
      floor = Number.POSITIVE_INFINITY;
    } else {
      floor = Math.min(floor, now);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

/** The share of one core this process used since the last call, over an interval of `ms`. */
function cpuShare(): (ms: number) => number {
  let last = process.cpuUsage();
  return (ms) => {
    const spent = process.cpuUsage(last);
    last = process.cpuUsage();
    return (spent.user + spent.system) / 1000 / ms;
  };
}

/**
 * A full collection that also gives back what the engine keeps for later: compiled code and the
 * allocator's free memory (JavaScriptCore's VM::shrinkFootprintWhenIdle, which Bun.shrink asks
 * for). A concurrent collection alone left the heap's emptied blocks: 50 tabs' burst kept ~30 MB
 * of them. The price is paid once, by the next request: code runs in the interpreter again until
 * it is compiled again (a chat page after a quiet spell took 30-44 ms instead of 17-20; warm, 8-10
 * either way). Bun marks Bun.shrink deprecated; should a later Bun drop it, a concurrent
 * collection stands in.
 */
function shrink() {
  const bun = Bun as { shrink?: () => void };
  if (typeof bun.shrink === "function") bun.shrink();
  else Bun.gc(false);
}
