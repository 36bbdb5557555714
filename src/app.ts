import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { chatRoutes } from "./chat/routes.ts";
import { type ChatService, createChatService } from "./chat/service.ts";
import { chatSocket, createSocketRegistry } from "./chat/socket.ts";
import { type Config, publicUrl } from "./config.ts";
import type { Database } from "./db/client.ts";
import { assetRoutes, loadAssets } from "./http/assets.ts";
import { errorHandler } from "./http/errors.ts";
import { healthRoutes } from "./http/health.ts";
import { requestLog } from "./http/request-log.ts";
import { sameOriginWrites, securityHeaders } from "./http/security.ts";
import type { GenerationTiming } from "./llm/generations.ts";
import { createUpstream } from "./llm/openrouter.ts";
import type { Logger } from "./log.ts";

export type AppDeps = { config: Config; database: Database; log: Logger; timing?: GenerationTiming };

/** Builds the whole HTTP app from its parts; tests import this, `server.ts` listens with it. */
export function createApp({ config, database, log, timing }: AppDeps) {
  const assets = loadAssets();
  const upstream = createUpstream(config);
  // Fan-out goes through the server's pub/sub, which exists once the app listens.
  const bus = {
    server: undefined as { publish(topic: string, data: string): unknown } | undefined,
    publish(topic: string, data: string) {
      this.server?.publish(topic, data);
    },
  };
  const chat: ChatService = createChatService({ database, upstream, bus, config, log, timing });
  const sockets = createSocketRegistry();
  /** Before the server stops: answers in flight are saved as interrupted, then tabs are told to reconnect. */
  const shutdown = async () => {
    await chat.shutdown();
    sockets.closeAll();
  };
  const app = new Elysia()
    .decorate({ chat, sockets, shutdown })
    .use(requestLog(log))
    .use(securityHeaders())
    .use(errorHandler(log))
    .use(sameOriginWrites(publicUrl(config)))
    .use(html({ contentType: "text/html; charset=utf-8" }))
    .use(assetRoutes(assets.byFile))
    .use(healthRoutes(database))
    .use(chatRoutes(chat, upstream, assets.urls, config.defaultModel))
    .use(chatSocket(chat, sockets, publicUrl(config), log))
    .onStart(({ server }) => {
      bus.server = server ?? undefined;
    });
  return app;
}

export type App = ReturnType<typeof createApp>;
