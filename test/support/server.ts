import { createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import type { GenerationTiming } from "../../src/llm/generations.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import type { TestDb } from "./db.ts";

export type TestServer = {
  url: string;
  origin: string;
  config: Config;
  app: ReturnType<typeof createApp>;
  stop(): Promise<void>;
};

/** The real app on a real port (127.0.0.1, chosen by the OS), on the given test database. */
export function startTestServer(
  t: TestDb,
  env: Record<string, string> = {},
  opts: { log?: Logger; timing?: GenerationTiming; port?: number } = {},
): TestServer {
  const config = loadConfig({ LOG_FORMAT: "json", HOST: "127.0.0.1", ...env });
  const app = createApp({ config, database: t.database, log: opts.log ?? silentLogger, timing: opts.timing }).listen({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
  });
  const url = `http://127.0.0.1:${app.server!.port}`;
  return {
    url,
    origin: url,
    config,
    app,
    async stop() {
      await app.decorator.shutdown();
      await app.stop(true);
    },
  };
}
