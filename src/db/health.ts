import { describeDbError, isDiskFull, isUnavailable } from "./errors.ts";

/** Why the database cannot serve Parley now, in a sentence for operators (logs, /readyz). */
export type Trouble = { kind: "unreachable" | "writes-failing"; reason: string };

/** What every page and tab says while the database cannot serve. */
export const DATABASE_UNAVAILABLE = "The database is unavailable; Parley retries on its own.";

/** Writes that failed this long ago, with none since, no longer count: nothing shows they still would. */
const WRITE_TROUBLE_MS = 60_000;
/** How often an unreachable database is tried again, and how long a try may take. */
const PROBE_MS = 1000;

/**
 * What this process has seen of its database: every statement's outcome (the driver reports each,
 * see client.ts), and while it is unreachable, a probe each second. It answers at once, without a
 * query, so pages and /readyz can fail fast instead of waiting on a connection that will not come.
 * Reads keep working on a full disk, so failed writes count until a write succeeds.
 */
export function createDbHealth(
  ping: (timeoutMs: number) => Promise<void>,
  opts: { stallMs?: number; now?: () => number; writeTroubleMs?: number } = {},
) {
  const now = opts.now ?? Date.now;
  const writeTroubleMs = opts.writeTroubleMs ?? WRITE_TROUBLE_MS;
  let unreachable: { reason: string } | undefined;
  /** Statements sent and not settled, and when one last settled (or the first was sent). */
  let running = 0;
  let progressAt = now();
  let writes: { reason: string; at: number } | undefined;
  let writesExpire: ReturnType<typeof setTimeout> | undefined;
  /** Statements are numbered as they are sent; these are the counter when one last succeeded. */
  let sent = 0;
  let succeededAt = 0;
  let wroteAt = 0;
  let probing: ReturnType<typeof setInterval> | undefined;
  const listeners = new Set<(trouble: Trouble | undefined) => void>();
  /** Other reasons not to take traffic (answers whose end is not saved), asked on each check. */
  const extra = new Set<() => string | undefined>();
  let last: Trouble | undefined;

  const current = (): Trouble | undefined => {
    if (unreachable) return { kind: "unreachable", reason: unreachable.reason };
    const failing = writes && now() - writes.at < writeTroubleMs ? writes.reason : undefined;
    let waiting: string | undefined;
    for (const check of extra) waiting ??= check();
    // Both, once: a check that already names why writes fail (a full disk) says it all.
    const reason = failing && waiting && !waiting.startsWith(failing) ? `${failing}; ${waiting}` : (waiting ?? failing);
    return reason ? { kind: "writes-failing", reason } : undefined;
  };
  const changed = () => {
    const trouble = current();
    if (trouble?.kind === last?.kind && trouble?.reason === last?.reason) return;
    last = trouble;
    for (const listener of listeners) listener(trouble);
  };
  /** A ping that answered is a success too: statements sent before it say less about now. */
  const pinged = (mark: number) => {
    succeededAt = Math.max(succeededAt, mark);
    reachable();
  };
  const probe = async () => {
    const mark = sent;
    try {
      await ping(PROBE_MS);
      pinged(mark);
    } catch (err) {
      if (unreachable) unreachable.reason = describeDbError(err);
    }
  };
  const markUnreachable = (reason: string) => {
    unreachable ??= { reason };
    probing ??= setInterval(() => void probe(), PROBE_MS);
    probing.unref?.();
    changed();
  };
  /**
   * A statement that failed to reach the database makes it suspect; a ping decides. One broken
   * connection of the pool (one that died in an outage and failed a statement after the database
   * was back, or waited out a connect timeout) must not send every page to a 503 while the
   * database answers. In a real outage the ping fails as fast as the statement did.
   */
  let confirming = false;
  const confirm = (reason: string) => {
    if (unreachable || confirming) return;
    confirming = true;
    const mark = sent;
    ping(PROBE_MS)
      .then(
        () => pinged(mark),
        (err) => markUnreachable(isUnavailable(err) ? describeDbError(err) : reason),
      )
      .finally(() => {
        confirming = false;
      });
  };
  // A network that drops everything fails nothing for minutes (TCP keeps retrying): statements
  // that wait with none settling for `stallMs` mean the database is out of reach all the same.
  // A long transaction is not a stall: the database is asked before it is called unreachable.
  let asking = false;
  const watchdog = opts.stallMs
    ? setInterval(() => {
        if (asking || running === 0 || unreachable || now() - progressAt <= opts.stallMs!) return;
        asking = true;
        ping(PROBE_MS)
          .then(
            () => {
              progressAt = now();
            },
            () => markUnreachable(`it has not answered for ${Math.round(opts.stallMs! / 1000)} s`),
          )
          .finally(() => {
            asking = false;
          });
      }, 1000)
    : undefined;
  watchdog?.unref?.();
  const reachable = () => {
    if (!unreachable) return;
    unreachable = undefined;
    clearInterval(probing);
    probing = undefined;
    changed();
  };

  return {
    /** A statement was sent; what it returns goes back to `observe` when it ends. */
    begin(): number {
      if (running++ === 0) progressAt = now();
      return ++sent;
    },

    /** The statement sent as `stamp` ended: `failed` with its error, else it succeeded. */
    observe(stamp: number, write: boolean, failed?: unknown) {
      running = Math.max(0, running - 1);
      progressAt = now();
      if (failed === undefined) {
        succeededAt = sent;
        const hadWrites = write && writes;
        if (write) {
          wroteAt = sent;
          writes = undefined;
          clearTimeout(writesExpire);
        }
        if (unreachable) return reachable();
        if (hadWrites) changed();
        return;
      }
      if (!isUnavailable(failed)) return;
      // A statement sent during an outage can fail after the database is back (a pool reconnecting,
      // a timeout): a success of one sent later (or a ping) already says more about now than it
      // does. A full disk is about writes, so only a later write answers it.
      if (stamp <= (isDiskFull(failed) ? wroteAt : succeededAt)) return;
      const reason = describeDbError(failed);
      if (isDiskFull(failed) || write) {
        writes = { reason, at: now() };
        // Nothing else may happen when the window passes: re-evaluate then, or the trouble stays.
        clearTimeout(writesExpire);
        writesExpire = setTimeout(changed, writeTroubleMs + 10);
        writesExpire.unref?.();
        // A full disk answers reads: it is reachable, only unable to keep what it is given.
        if (isDiskFull(failed)) return changed();
      }
      if (!isDiskFull(failed)) return confirm(reason);
      changed();
    },

    /** What is wrong as far as this process knows, without asking the database. */
    get trouble(): Trouble | undefined {
      return current();
    },

    /** Asks the database (within `timeoutMs`), then says what is wrong, if anything: for /readyz. */
    async check(timeoutMs = 800): Promise<Trouble | undefined> {
      const mark = sent;
      try {
        await ping(timeoutMs);
        pinged(mark);
      } catch (err) {
        // Slow is not gone: a busy pool answers late, and pages should still wait for it.
        if ((err as { code?: string }).code === "ETIMEDOUT") {
          return current() ?? { kind: "unreachable", reason: describeDbError(err) };
        }
        // The ping is the confirmation: unreachable at once, so the next page fails fast too.
        if (isUnavailable(err)) markUnreachable(describeDbError(err));
        return current() ?? { kind: "unreachable", reason: describeDbError(err) };
      }
      return current();
    },

    /** Adds a reason not to take traffic, asked on each check. */
    require(check: () => string | undefined) {
      extra.add(check);
      return () => extra.delete(check);
    },

    /** Called when what is wrong changes (becomes wrong, changes reason, or is fixed). */
    onChange(listener: (trouble: Trouble | undefined) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Re-evaluates after an extra check's answer may have changed. */
    recheck: changed,

    close() {
      clearInterval(probing);
      clearInterval(watchdog);
      clearTimeout(writesExpire);
      listeners.clear();
    },
  };
}

export type DbHealth = ReturnType<typeof createDbHealth>;
