/**
 * Returns memory after a burst of work instead of at the next one. JavaScriptCore collects when
 * its heap has grown by a share of its size, and Bun's own timer when it has grown by 32 MB: after
 * 50 chat pages opened one after another, ~30 MB of garbage objects (with their strings, ~45 MB
 * of RSS) stayed until something else ran (docs/footprint.md). Every `everyMs`, a heap grown by
 * more than `growthBytes` above its lowest since the last collection asks for one (concurrent),
 * but only once the process is quiet: under load the engine collects on its own, and collections
 * of ours on top only added CPU (bench/realistic.ts: 1-5 points more without this check).
 */
export function collectAfterBursts({
  everyMs = 2000,
  growthBytes = 8 * 1024 * 1024,
  /** The share of one core the process may use for the interval to count as quiet. */
  quietShare = 0.1,
  used = () => process.memoryUsage().heapTotal,
  busyShare = cpuShare(),
  collect = () => Bun.gc(false),
} = {}): () => void {
  let floor = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const now = used();
    const quiet = busyShare(everyMs) < quietShare;
    if (now - floor > growthBytes && quiet) {
      collect();
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
