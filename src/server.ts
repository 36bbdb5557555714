import { resolve } from "node:path";
import { type App, createApp } from "./app.ts";
import { serveBackups } from "./backup/live.ts";
import { type Config, ConfigError, publicUrl, redactUrl } from "./config.ts";
import { type Database, isNewDataDir } from "./db/client.ts";
import { migrate } from "./db/migrate.ts";
import { openConfigured } from "./db/template.ts";
import { collectAfterBursts } from "./idle-collection.ts";
import type { Logger } from "./log.ts";

export type RunningServer = { app: App; database: Database; url: string; stop(): Promise<void> };

/** Opens and migrates the database, then listens. Throws ConfigError for anything the operator must fix. */
export async function startServer(config: Config, log: Logger): Promise<RunningServer> {
  const started = performance.now();
  probePort(config);
  // Creating the embedded database takes seconds of silence otherwise: say what is happening.
  const creating = !config.databaseUrl && isNewDataDir(config.dataDir);
  if (creating) {
    log.info(`Creating the embedded database in ${config.dataDir} (first start only)…`);
  }
  const database = await openConfigured(config);
  if (creating) log.info("embedded database created", { ms: Math.round(performance.now() - started) });
  try {
    const migrated = await migrate(database, config.databaseUrl);
    log.info("database ready", {
      driver: database.driver,
      where: config.databaseUrl ? redactUrl(config.databaseUrl) : config.dataDir,
      migrationsApplied: migrated.applied,
    });
    const app = createApp({ config, database, log });
    const chat = app.decorator.chat;
    await app.decorator.ready;
    const recovered = await chat.recoverInterrupted();
    if (recovered) log.warn("answers left unfinished by a previous run marked interrupted", { count: recovered });
    try {
      // Elysia asks for SO_REUSEPORT by default: a second Parley on the same port would then
      // share it silently instead of failing.
      app.listen({ port: config.port, hostname: config.host, reusePort: false });
    } catch (err) {
      throw listenError(err, config);
    }
    // The embedded database's files are locked to this process: `parley backup` asks it for them.
    const backups = config.databaseUrl ? undefined : serveBackups(database, resolve(config.dataDir), log);
    const stopCollecting = collectAfterBursts({ alsoRelease: database.releaseZeroPages });
    void chat.models(); // warm the model list so the first page need not wait for it
    await app.decorator.auth.sweep();
    if (await app.decorator.auth.needsSetup()) {
      log.warn("no account yet: open Parley in a browser to create the admin account", {
        url: publicUrl({ ...config, port: app.server!.port! }),
      });
    }
    // The binary starts with the JIT held back (`--compile-jit-policy` in package.json): code that
    // runs only while starting stays in the interpreter instead of being compiled and kept.
    Bun.unsafe.setJITPolicy(1);
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${app.server!.port}`;
    log.info("listening", {
      url,
      publicUrl: publicUrl({ ...config, port: app.server!.port! }),
      startupMs: Math.round(performance.now() - started),
    });
    return {
      app,
      database,
      url,
      async stop() {
        backups?.stop();
        stopCollecting();
        await app.decorator.shutdown();
        const http = app.server;
        if (http) {
          // Let requests in flight finish briefly, then close what is left (open sockets).
          await Promise.race([http.stop(false), Bun.sleep(1000)]);
          await http.stop(true);
        }
        await database.close();
      },
    };
  } catch (err) {
    await database.close().catch(() => {});
    throw err;
  }
}

/**
 * Fails at once on a port that is taken or not ours to bind, before the database is opened: a
 * first start would otherwise create and migrate a whole embedded database (seconds) only to stop
 * on the port. The server binds for real later, after migrating; the port could be taken in
 * between, which listen() still reports the same way.
 */
function probePort(config: Config): void {
  if (config.port === 0) return;
  try {
    Bun.serve({ port: config.port, hostname: config.host, reusePort: false, fetch: () => new Response() }).stop(true);
  } catch (err) {
    throw listenError(err, config);
  }
}

function listenError(err: unknown, config: Config): Error {
  const code = (err as { code?: string }).code;
  if (code === "EADDRINUSE") {
    return new ConfigError(
      `PORT ${config.port} is already in use on ${config.host}; stop the other program or choose another PORT.`,
    );
  }
  if (code === "EACCES") {
    return new ConfigError(`PORT ${config.port} needs more privileges than Parley has; choose a PORT above 1023.`);
  }
  if (code === "EADDRNOTAVAIL") {
    return new ConfigError(`HOST ${config.host} is not an address of this machine.`);
  }
  return err as Error;
}

/**
 * Runs until SIGTERM or SIGINT, then stops accepting, lets requests in flight finish (up to
 * SHUTDOWN_TIMEOUT_MS), closes sockets and the database, and resolves with the exit code.
 */
export async function serveUntilSignal(config: Config, log: Logger): Promise<number> {
  // Listen for signals before starting: one that arrives during start-up (or right after the
  // "listening" line) must still shut down gracefully, not kill the process half-way.
  const signalled = new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  const server = await startServer(config, log);
  const signal = await signalled;
  const { generations } = server.app.decorator.chat;
  log.info("shutting down", { signal, answersInFlight: generations.size });
  // Answers in flight are saved as `interrupted` (their tabs are told), then sockets close. An
  // end that cannot be saved is retried until the timeout: the database may be back by then.
  const timedOut = await Promise.race([
    server.stop().then(() => false),
    Bun.sleep(config.shutdownTimeout).then(() => true),
  ]);
  if (timedOut) {
    const unsaved = generations.size;
    if (unsaved) {
      log.error("shutdown timeout reached with answers not saved; what they streamed since their last save is lost", {
        answers: unsaved,
        messageIds: generations.ids(),
      });
      return 1;
    }
    log.warn("shutdown timeout reached; exiting anyway");
  }
  log.info("stopped");
  return 0;
}
