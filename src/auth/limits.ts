/**
 * Counts events per key over a sliding window: sign-in failures per account and per address,
 * messages sent per person. In memory, per process: a restart forgets the counts, which at worst
 * grants one more window.
 */
export class RateLimit {
  private readonly hits = new Map<string, number[]>();
  private sweepIn = 1000;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until `key` may act again; 0 when it may now. */
  wait(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    return Math.max(1, recent[recent.length - this.limit]! + this.windowMs - this.now());
  }

  /**
   * Counts an attempt before it is made, when `key` may act: returns 0 and records it, or the
   * milliseconds to wait and records nothing. Checking and counting in one synchronous step is
   * what stops a burst of concurrent requests from all passing a check made before any of them
   * is counted.
   */
  take(key: string): number {
    const wait = this.wait(key);
    if (wait === 0) this.hit(key);
    return wait;
  }

  /** Gives back the newest attempt counted for `key` (it turned out not to be one to count). */
  refund(key: string): void {
    this.hits.get(key)?.pop();
  }

  /** Attempts counted for `key` in the window, at most `limit`. */
  count(key: string): number {
    return this.recent(key).length;
  }

  hit(key: string): void {
    const recent = this.recent(key);
    recent.push(this.now());
    // Only the newest `limit` matter for the answer; older ones would only cost memory.
    if (recent.length > this.limit) recent.splice(0, recent.length - this.limit);
    this.hits.set(key, recent);
    if (--this.sweepIn <= 0) this.sweep();
  }

  reset(key: string): void {
    this.hits.delete(key);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = this.hits.get(key);
    if (!list) return [];
    while (list.length && list[0]! <= since) list.shift();
    return list;
  }

  /** Drops keys with nothing in the window, so a flood of distinct keys does not pile up. */
  private sweep() {
    this.sweepIn = 1000;
    const since = this.now() - this.windowMs;
    for (const [key, list] of this.hits) if (!list.length || list[list.length - 1]! <= since) this.hits.delete(key);
  }
}

/** "in 40 seconds", "in 3 minutes": when the person may try again. */
export function tryAgainIn(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 90) return `in ${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
}
