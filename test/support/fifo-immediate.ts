/**
 * Playwright's in-process client and server pass every message through setImmediate and rely on
 * first-in, first-out order. Under Bun that order did not always hold while pages streamed
 * WebSocket frames: Playwright then saw a frame for a socket it had not created yet and threw
 * "Cannot find object to frameReceived" into a test (2 runs in 7 failed; 0 in 12 with this).
 * This preload, for the test process only, runs immediates from one queue in the order set.
 */
type Queued = { run: () => void; cancelled: boolean };

const native = globalThis.setImmediate;
const nativeClear = globalThis.clearImmediate;
const queue: Queued[] = [];
let scheduled = false;

function drain() {
  scheduled = false;
  for (const item of queue.splice(0)) if (!item.cancelled) item.run();
}

globalThis.setImmediate = ((callback: (...args: unknown[]) => void, ...args: unknown[]) => {
  const item: Queued = { run: () => callback(...args), cancelled: false };
  queue.push(item);
  if (!scheduled) {
    scheduled = true;
    native(drain);
  }
  return item;
}) as unknown as typeof setImmediate;

globalThis.clearImmediate = ((handle: unknown) => {
  if (handle && typeof handle === "object" && "cancelled" in handle) (handle as Queued).cancelled = true;
  else nativeClear(handle as Parameters<typeof clearImmediate>[0]);
}) as typeof clearImmediate;
