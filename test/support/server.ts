import { createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { type Logger, silentLogger } from "../../src/log.ts";
import type { TestDb } from "./db.ts";

export type TestServer = { url: string; config: Config; stop(): Promise<void> };

/** The real app on a real port (127.0.0.1, chosen by the OS), on the given test database. */
export function startTestServer(t: TestDb, env: Record<string, string> = {}, log: Logger = silentLogger): TestServer {
  const config = loadConfig({ LOG_FORMAT: "json", ...env });
  const app = createApp({ config, database: t.database, log }).listen({ port: 0, hostname: "127.0.0.1" });
  return {
    url: `http://127.0.0.1:${app.server!.port}`,
    config,
    async stop() {
      await app.stop(true);
    },
  };
}
