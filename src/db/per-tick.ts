/**
 * Group commit, and its reads' equivalent: the calls made in one turn of the event loop are
 * answered by one call of `run` with all of them (one statement, one round trip, one commit
 * where it writes), in the order they came. Beyond `most` calls, a batch goes and the next
 * begins. `run` must answer one result per argument, in order; if it throws, every call of the
 * batch gets the error.
 */
export function perTick<A, R>(run: (batch: A[]) => Promise<R[]>, most = 200): (arg: A) => Promise<R> {
  type Waiting = { arg: A; resolve: (r: R) => void; reject: (e: unknown) => void };
  let waiting: Waiting[] = [];

  async function go(batch: Waiting[]) {
    try {
      const results = await run(batch.map((w) => w.arg));
      for (const [i, w] of batch.entries()) w.resolve(results[i]!);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  const flush = () => {
    const batch = waiting;
    waiting = [];
    if (batch.length) void go(batch);
  };

  return (arg) =>
    new Promise<R>((resolve, reject) => {
      if (!waiting.length) setImmediate(flush);
      waiting.push({ arg, resolve, reject });
      if (waiting.length >= most) flush();
    });
}

/**
 * perTick for module-level functions that take the database: one batcher per database (a process
 * may hold several, as tests and `parley move-data` do), made on its first call.
 */
export function perTickOn<D extends object, A, R>(
  run: (db: D, batch: A[]) => Promise<R[]>,
): (db: D, arg: A) => Promise<R> {
  const batchers = new WeakMap<D, (arg: A) => Promise<R>>();
  return (db, arg) => {
    let batch = batchers.get(db);
    if (!batch) {
      batch = perTick((args: A[]) => run(db, args));
      batchers.set(db, batch);
    }
    return batch(arg);
  };
}
