import pkg from "../package.json" with { type: "json" };
import { USER_HELP, userCommand } from "./auth/cli.ts";
import { BACKUP_HELP, backupCommand, moveDataCommand, restoreCommand } from "./backup/cli.ts";
import { type Config, ConfigError, loadConfig } from "./config.ts";
import { describeSettings } from "./config-help.ts";
import { describeFailedQuery, isDiskFull } from "./db/errors.ts";
import { migrate } from "./db/migrate.ts";
import { openConfigured } from "./db/template.ts";
import { createLogger, stackFrames } from "./log.ts";
import { serveUntilSignal } from "./server.ts";

const HELP = `Parley ${pkg.version}: a self-hosted AI chat server.

Usage: parley [command]

Commands:
  serve                        Start the server (the default).
  migrate                      Bring the database schema up to date, then exit.
  healthcheck                  Exit 0 if the server on this machine's PORT
                               answers /readyz (for containers).
${USER_HELP}
${BACKUP_HELP}
  help                         Show this text.
  version                      Print the version.

Settings (environment variables):
${describeSettings()}
`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? "serve";
  if (command === "help" || command === "--help" || command === "-h") {
    process.stdout.write(HELP);
    return 0;
  }
  if (command === "version" || command === "--version" || command === "-v") {
    process.stdout.write(`${pkg.version}\n`);
    return 0;
  }
  if (!["serve", "migrate", "healthcheck", "user", "backup", "restore", "move-data"].includes(command)) {
    process.stderr.write(`parley: unknown command "${command}"; try "parley --help".\n`);
    return 2;
  }
  const config = loadConfig();
  if (command === "healthcheck") return healthcheck(config);
  const log = createLogger({ level: config.logLevel, format: config.logFormat });
  if (command === "user") return userCommand(argv.slice(1), config, log);
  if (command === "backup") return backupCommand(argv.slice(1), config);
  if (command === "restore") return restoreCommand(argv.slice(1), config);
  if (command === "move-data") return moveDataCommand(argv.slice(1), config);
  if (command === "migrate") {
    const database = await openConfigured(config);
    try {
      const result = await migrate(database, config.databaseUrl);
      log.info("migrated", { driver: database.driver, applied: result.applied, known: result.total });
    } finally {
      await database.close();
    }
    return 0;
  }
  return serveUntilSignal(config, log);
}

/** Asks the local server whether it is ready; slim container images have no curl. */
async function healthcheck(config: Config): Promise<number> {
  const host = ["0.0.0.0", "::", ""].includes(config.host) ? "127.0.0.1" : config.host;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${config.port}/readyz`;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    process.stdout.write(`${res.status} ${await res.text()}\n`);
    return res.status === 200 ? 0 : 1;
  } catch (err) {
    process.stderr.write(`parley: ${url} did not answer: ${(err as Error).message}\n`);
    return 1;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // Operator mistakes get one sentence; anything else is a bug and keeps its stack for the report.
  if (err instanceof ConfigError) {
    process.stderr.write(`parley: ${err.message}\n`);
  } else {
    // A failed statement's message would spell out its parameters (people's messages): say why instead.
    const why = isDiskFull(err)
      ? "the database's disk is full (No space left on device); free some space, then start Parley again."
      : (describeFailedQuery(err) ?? (err as Error)?.message ?? String(err));
    process.stderr.write(`parley: could not start: ${why}\n`);
    if (process.env.LOG_LEVEL === "debug") process.stderr.write(`${stackFrames(err)}\n`);
  }
  process.exitCode = 1;
}
// Log lines to a pipe are written asynchronously: let them drain before exiting, or the last ones
// ("stopped", the final requests) are lost. Exiting explicitly ends what no shutdown closed.
process.stdout.write("", () => process.exit());
