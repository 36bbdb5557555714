import type { LogFormat, LogLevel } from "./config.ts";
import { describeFailedQuery } from "./db/errors.ts";

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const COLOR: Record<LogLevel, string> = {
  debug: "\x1b[90m",
  info: "\x1b[36m",
  warn: "\x1b[33m",
  error: "\x1b[31m",
};

export type Fields = Record<string, unknown>;
export type Logger = Record<LogLevel, (event: string, fields?: Fields) => void>;

/**
 * One line per event: JSON for machines (production), or `time level event k=v` for people.
 * Callers pass an event name and plain fields; never pass secrets.
 */
export function createLogger(opts: { level: LogLevel; format: LogFormat; write?: (line: string) => void }): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const emit =
    (level: LogLevel) =>
    (event: string, fields: Fields = {}) => {
      if (RANK[level] < RANK[opts.level]) return;
      const time = new Date().toISOString();
      if (opts.format === "json") {
        write(JSON.stringify({ time, level, event, ...fields }, errorReplacer));
        return;
      }
      const pairs = Object.entries(fields)
        .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v, errorReplacer)}`)
        .join(" ");
      write(`${time.slice(11, 23)} ${COLOR[level]}${level.padEnd(5)}\x1b[0m ${event}${pairs ? ` ${pairs}` : ""}`);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/**
 * An error as its message, with its cause's. A failed statement shows what it was and the
 * database's reason, never its parameters: drizzle's "Failed query" spells them out, and they
 * hold people's messages.
 */
function errorReplacer(_key: string, value: unknown) {
  if (!(value instanceof Error)) return value;
  const failedQuery = describeFailedQuery(value);
  if (failedQuery) return failedQuery;
  return value.cause instanceof Error ? `${value.message}: ${value.cause.message}` : value.message;
}

/** An error's stack frames only: a failed statement's message, repeated atop its stack, holds its parameters. */
export function stackFrames(err: unknown): string | undefined {
  return (err as Error)?.stack
    ?.split("\n")
    .filter((line) => line.trimStart().startsWith("at "))
    .join("\n");
}

/** A logger that drops everything, for tests that do not read the log. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
