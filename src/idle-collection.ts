/**
 * Returns memory after a burst of work instead of at the next one. JavaScriptCore collects when
 * its heap has grown by a share of its size, and Bun's own timer when it has grown by 32 MB: after
 * 50 chat pages opened one after another, ~30 MB of garbage objects (with their strings, ~45 MB
 * of RSS) stayed until something else ran (docs/footprint.md). Every `everyMs`, a heap grown by
 * more than `growthBytes` above its lowest since the last collection asks for one (concurrent: the
 * event loop goes on meanwhile).
 */
export function collectAfterBursts({
  everyMs = 2000,
  growthBytes = 8 * 1024 * 1024,
  used = () => process.memoryUsage().heapTotal,
  collect = () => Bun.gc(false),
} = {}): () => void {
  let floor = Number.POSITIVE_INFINITY;
  const timer = setInterval(() => {
    const now = used();
    if (now - floor > growthBytes) {
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
