/**
 * What a database failure means, in words an operator can act on. A leaf module: the logger, the
 * health checks and the CLI all describe errors the same way, and none of them may repeat a
 * failed statement's parameters (they hold people's messages).
 */

type DbErrorLike = {
  code?: string;
  errno?: string;
  message?: string;
  cause?: unknown;
  query?: string;
  params?: unknown;
};

/** The driver's own error under drizzle's "Failed query" wrapper (which spells out the parameters). */
export function rootDbError(err: unknown): DbErrorLike {
  let e = err as DbErrorLike;
  for (let depth = 0; depth < 5 && e?.cause && typeof e.cause === "object"; depth++) e = e.cause as DbErrorLike;
  return e ?? {};
}

/** Whether this error says the disk is full, on either driver. */
export function isDiskFull(err: unknown): boolean {
  const e = rootDbError(err);
  return e.code === "ENOSPC" || e.code === "53100" || /no space left on device|disk full/i.test(e.message ?? "");
}

/**
 * Whether the failure is the database being unreachable or unable to write (rather than a bad
 * statement): what a retry can outlast.
 */
export function isUnavailable(err: unknown): boolean {
  const e = rootDbError(err);
  const code = e.code ?? "";
  return (
    isDiskFull(err) ||
    [
      "ECONNREFUSED",
      "ECONNRESET",
      "EPIPE",
      "ETIMEDOUT",
      "CONNECT_TIMEOUT",
      "CONNECTION_CLOSED",
      "CONNECTION_ENDED",
    ].includes(code) ||
    code.startsWith("08") || // connection exceptions
    code.startsWith("53") || // insufficient resources
    code.startsWith("57P") || // the server shutting down, or unable to start yet
    code === "55000" || // the database does not accept connections
    code === "57014" || // our statement timeout
    code === "EIO" ||
    /database is (unavailable|closed)|PGlite is closed|connection.*(closed|terminated|lost)/i.test(e.message ?? "")
  );
}

/** A short, secret-free reason, never a statement's parameters. */
export function describeDbError(err: unknown): string {
  const e = rootDbError(err);
  if (isDiskFull(err)) return "the disk is full (No space left on device)";
  if (e.code === "ECONNREFUSED") return "connection refused (is Postgres running?)";
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return "host not found";
  if (e.code === "CONNECT_TIMEOUT") return "timed out connecting";
  if (e.code === "57014") return "the statement took too long and was cancelled";
  if (e.code === "3D000") return "the database does not exist";
  if (e.code === "28P01" || e.code === "28000") return "authentication failed";
  const message = (e.message ?? String(err)).split("\n")[0] ?? "unknown error";
  // A wrapper with no cause still names its parameters after the statement: keep neither.
  return message.startsWith("Failed query:") ? "a database statement failed" : message;
}

/** A failed statement for the log: what it was doing and why it failed, without its parameters. */
export function describeFailedQuery(err: unknown): string | undefined {
  const query = (err as DbErrorLike)?.query;
  if (typeof query !== "string") return undefined;
  const statement = query.replace(/\s+/g, " ").trim().slice(0, 60);
  return `${describeDbError(err)} (in: ${statement}${query.length > 60 ? "…" : ""})`;
}

/**
 * Settles like `work`, or fails (as the database being unavailable) once `ms` have passed. For the
 * writes an answer cannot lose: postgres.js can leave a statement sent on a connection reset
 * unsettled for good, and such a write holding a chat's lock, or the chain of progress saves,
 * would hold it forever. What the statement does if it ever runs is safe to do twice.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`${what} got no answer within ${ms / 1000} s`), { code: "ETIMEDOUT" })),
      ms,
    );
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a write that a unique index may refuse (a name already in use, perhaps taken a moment ago
 * in another tab): "taken" when it does, on either driver.
 */
export async function unlessTaken<T>(write: () => Promise<T>): Promise<T | "taken"> {
  try {
    return await write();
  } catch (err) {
    if (rootDbError(err).code === "23505") return "taken";
    throw err;
  }
}
