import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { HomePage } from "../views/pages/home.tsx";
import { listRecentChats } from "./chat/repo.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/client.ts";
import { assetRoutes, loadAssets } from "./http/assets.ts";
import { errorHandler } from "./http/errors.ts";
import { healthRoutes } from "./http/health.ts";
import { requestLog } from "./http/request-log.ts";
import { securityHeaders } from "./http/security.ts";
import type { Logger } from "./log.ts";

export type AppDeps = { config: Config; database: Database; log: Logger };

/** Builds the whole HTTP app from its parts; tests import this, `server.ts` listens with it. */
export function createApp({ config, database, log }: AppDeps) {
  const assets = loadAssets();
  return new Elysia()
    .use(requestLog(log))
    .use(securityHeaders())
    .use(errorHandler(log))
    .use(html({ contentType: "text/html; charset=utf-8" }))
    .use(assetRoutes(assets.byFile))
    .use(healthRoutes(database))
    .get("/", async () => {
      const chats = await listRecentChats(database.db);
      return HomePage({ assets: assets.urls, chats, hasApiKey: Boolean(config.openrouterApiKey) });
    });
}

export type App = ReturnType<typeof createApp>;
