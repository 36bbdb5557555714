import { html } from "@elysiajs/html";
import { Elysia } from "elysia";
import { API_PREFIX, apiRoutes, COMPLETIONS_ROUTE } from "./api/routes.ts";
import { createApiService } from "./api/service.ts";
import { auditRoutes } from "./audit/routes.ts";
import { createAuditService } from "./audit/service.ts";
import { authPages, authRoutes } from "./auth/routes.ts";
import { type AuthService, createAuthService } from "./auth/service.ts";
import { bulkRoutes } from "./bulk/routes.ts";
import { openPeerBus } from "./bus/notify.ts";
import { type PeerEvent, serviceStatus } from "./chat/broadcast.ts";
import { chatRoutes } from "./chat/routes.ts";
import { type ChatService, createChatService } from "./chat/service.ts";
import { chatSettingsRoutes } from "./chat/settings-routes.ts";
import { chatSocket, createSocketRegistry, MAX_FRAME_BYTES } from "./chat/socket.ts";
import { type Config, publicUrl } from "./config.ts";
import type { Database } from "./db/client.ts";
import { describeDbError, isDiskFull } from "./db/errors.ts";
import { DATABASE_UNAVAILABLE } from "./db/health.ts";
import { diagramRoutes } from "./diagrams/routes.ts";
import { fileRoutes, UPLOAD_ROUTE } from "./files/routes.ts";
import { createFileService, fileLimits } from "./files/service.ts";
import { assetRoutes, loadAssets } from "./http/assets.ts";
import { bodyLimit } from "./http/body-limit.ts";
import { compressHtml } from "./http/compress.ts";
import { databaseGate } from "./http/database-gate.ts";
import { errorHandler } from "./http/errors.ts";
import { healthRoutes } from "./http/health.ts";
import { allowedHosts } from "./http/host.ts";
import { manifestRoutes } from "./http/manifest.ts";
import { openapiSpec, PAGES } from "./http/openapi.ts";
import { requestLog, requestRecorder } from "./http/request-log.ts";
import { sameOriginWrites, securityHeaders } from "./http/security.ts";
import { keyRoutes } from "./keys/routes.ts";
import { createKeyService } from "./keys/service.ts";
import type { GenerationTiming } from "./llm/generations.ts";
import { createUpstream } from "./llm/openrouter.ts";
import type { Logger } from "./log.ts";
import { createMetrics } from "./metrics/metrics.ts";
import { metricsRoutes } from "./metrics/routes.ts";
import { pickerRoutes } from "./picker/routes.ts";
import { createPickerService } from "./picker/service.ts";
import { presetRoutes } from "./presets/routes.ts";
import { createPresetService } from "./presets/service.ts";
import { PROJECT_UPLOAD_ROUTE, projectRoutes } from "./projects/routes.ts";
import { createProjectService } from "./projects/service.ts";
import { searchRoutes } from "./search/routes.ts";
import { createSearchService } from "./search/service.ts";
import { shareRoutes } from "./share/routes.ts";
import { createShareService } from "./share/service.ts";
import { createSsoClient } from "./sso/client.ts";
import { ssoRoutes } from "./sso/routes.ts";
import { createSsoService } from "./sso/service.ts";
import { createLimitsService } from "./teams/limits-service.ts";
import { groupRoutes } from "./teams/routes.ts";
import { createGroupService } from "./teams/service.ts";
import { toolsRoutes } from "./tools/routes.ts";
import { createToolsService } from "./tools/service.ts";
import { IMPORT_ROUTE, transferRoutes } from "./transfer/routes.ts";
import { createTransferService } from "./transfer/service.ts";
import { usageRoutes } from "./usage/routes.ts";
import { createUsageService } from "./usage/service.ts";

const SWEEP_MS = 60 * 60 * 1000;
/**
 * Every form and action is small; a bigger body is refused (413) before it is read. Only the
 * import of chats and uploads of files take more, and check their own size (see http/body-limit.ts).
 */
export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * Bun's own limit, one number for the whole server: a backstop far above any route's limit, so
 * that an import too large is still answered with a sentence (an unread body is not buffered).
 */
const SERVER_MAX_BODY_BYTES = 1024 * 1024 * 1024;

export type AppDeps = { config: Config; database: Database; log: Logger; timing?: GenerationTiming };

/** Builds the whole HTTP app from its parts; tests import this, `server.ts` listens with it. */
export function createApp({ config, database, log, timing }: AppDeps) {
  const assets = loadAssets();
  const upstream = createUpstream(config);
  // Fan-out goes through the server's pub/sub, which exists once the app listens.
  const bus = {
    server: undefined as
      | { publish(topic: string, data: string): unknown; subscriberCount(topic: string): number }
      | undefined,
    publish(topic: string, data: string) {
      this.server?.publish(topic, data);
    },
    watched(topic: string) {
      return (this.server?.subscriberCount(topic) ?? 0) > 0;
    },
  };
  // Instances sharing a Postgres hear each other's events; the embedded database has one instance.
  const peers =
    database.driver === "postgres" && database.url
      ? openPeerBus({
          url: database.url,
          log,
          receive: (events) => {
            for (const e of events as PeerEvent[]) if (e.kind === "sessions") sockets.closeSessions(e.ids);
            chat.receive(events as PeerEvent[]);
          },
          resync: () => {
            // What tabs here show may lack events that were missed: they reconnect and read afresh.
            chat.forgetMirrors();
            sockets.closeAll("Catching up");
          },
          // An answer's words: the bulk of the bus, and heard by nobody while this instance is alone.
          onlyForPeers: (event) => (event as PeerEvent).kind === "delta",
        })
      : undefined;
  const metrics = createMetrics();
  const chat: ChatService = createChatService({
    database,
    upstream,
    bus,
    peers,
    config,
    log,
    timing,
    metrics: {
      firstToken: (seconds) => metrics.upstreamFirstToken.observe(seconds),
      relayed: (pieces) => metrics.tokensRelayed.inc(pieces),
      failed: (kind) => metrics.upstreamErrors.inc({ status: kind }),
    },
  });
  const picker = createPickerService({ database, models: () => chat.models() });
  const files = createFileService({ database, limits: fileLimits(config) });
  const keys = createKeyService({ database });
  const usage = createUsageService({ database });
  const auditLog = createAuditService({ database, retentionDays: config.auditRetentionDays });
  const transfer = createTransferService({ database, chat, files, defaultModel: config.defaultModel });
  // An answer whose end waits to be saved is one more reason not to take traffic (/readyz).
  // A full disk is named first: the ends wait for room, and a small write that still fits (a
  // lease renewal) does not mean there is room for them.
  const unsavedEnds = database.health.require(() => {
    const unsaved = chat.generations.unsavedEnds();
    if (!unsaved.length) return undefined;
    const ends = `${unsaved.length} answer${unsaved.length === 1 ? "'s end is" : "s' ends are"} not saved yet`;
    const full = unsaved.find((g) => isDiskFull(g.endError));
    return full ? `${describeDbError(full.endError)}; ${ends}` : ends;
  });
  // Every tab hears when the database goes away and when it is back.
  const impaired = () => (database.health.trouble ? DATABASE_UNAVAILABLE : undefined);
  const banner = database.health.onChange(() => serviceStatus(bus, impaired()));
  const sockets = createSocketRegistry({ perPerson: config.socketsPerPerson });
  metrics.watch({
    sockets: () => sockets.size,
    generations: () => chat.generations.size,
    db: database.load,
    usage: usage.settledByModel,
  });
  const record = requestRecorder(log, metrics);
  const auth: AuthService = createAuthService({
    database,
    config,
    log,
    // Here and on the other instances: a session that ended must stop hearing the person's chats anywhere.
    onSessionsEnded: (ids) => {
      sockets.closeSessions(ids);
      peers?.send({ kind: "sessions", ids });
    },
    stopAnswersOf: (userId) => chat.stopAnswersOf(userId),
  });
  const sso = config.oidcIssuer
    ? createSsoService({ database, config, log, auth, client: createSsoClient(config, log) })
    : undefined;
  // Sessions nobody presents again are deleted (and any socket still open on one is closed).
  // So are files uploaded but never sent.
  const sweeper = setInterval(() => {
    auth.sweep().catch((err) => log.warn("could not delete expired sessions", { error: err }));
    files.sweep().catch((err) => log.warn("could not delete unsent files", { error: err }));
    auditLog.sweep().catch((err) => log.warn("could not delete old audit log entries", { error: err }));
  }, SWEEP_MS);
  sweeper.unref();
  // Temporary chats left by their person, or made too long ago, are deleted by every instance.
  const temporarySweeper = setInterval(() => void chat.temporary.round(), chat.temporary.everyMs);
  temporarySweeper.unref();
  // Keep-alive: every open socket is pinged each interval; one that answered nothing since the last
  // round is closed as gone (see createSocketRegistry).
  const pinger = setInterval(() => {
    const gone = sockets.ping();
    if (gone > 0) log.debug("closed sockets whose peers stopped answering", { count: gone });
  }, config.socketPingInterval);
  pinger.unref();
  /** Before the server stops: answers in flight are saved as interrupted, then tabs are told to reconnect. */
  const shutdown = async () => {
    banner();
    clearInterval(sweeper);
    clearInterval(temporarySweeper);
    clearInterval(pinger);
    await chat.shutdown();
    unsavedEnds();
    // After the answers' ends, which other instances' tabs must hear too.
    await peers?.close();
    sockets.closeAll();
  };
  /** Resolves once this instance hears the others (at once on the embedded database). */
  const ready = peers?.ready ?? Promise.resolve();
  // Socket limits live on the server: Elysia hands Bun only the app-wide websocket settings.
  // A tab that stops reading (a frozen laptop, a dead link) is closed once 1 MB waits for it:
  // otherwise Bun buffers 16 MB and then silently drops frames, leaving that tab with a gap.
  // Closed, it reconnects and resynchronises like after any drop.
  // idleTimeout is only a backstop: Bun counts what it sends too, so the pings every
  // SOCKET_PING_INTERVAL_MS (at most 100 s) keep it from firing, and the pinger above reaps the dead.
  const app = new Elysia({
    // Routes stay out of the OpenAPI spec unless they declare tags of their own (http/openapi.ts).
    detail: { tags: [PAGES] },
    serve: { maxRequestBodySize: SERVER_MAX_BODY_BYTES },
    websocket: {
      maxPayloadLength: MAX_FRAME_BYTES,
      idleTimeout: 120,
      backpressureLimit: 1024 * 1024,
      closeOnBackpressureLimit: true,
    },
  })
    .decorate({ chat, auth, files, sockets, metrics, shutdown, ready })
    .use(requestLog(record))
    .use(securityHeaders(publicUrl(config).startsWith("https:")))
    .use(allowedHosts(config))
    .use(errorHandler(log, record, assets.urls))
    .use(databaseGate(database.health, assets.urls))
    .use(bodyLimit(MAX_BODY_BYTES, [IMPORT_ROUTE, UPLOAD_ROUTE, PROJECT_UPLOAD_ROUTE, COMPLETIONS_ROUTE]))
    .use(sameOriginWrites(publicUrl(config), [API_PREFIX]))
    .use(compressHtml())
    .use(html({ contentType: "text/html; charset=utf-8" }))
    .use(assetRoutes(assets.byFile))
    .use(manifestRoutes(assets.urls))
    .use(diagramRoutes(assets.urls))
    .use(openapiSpec())
    .use(healthRoutes(database))
    .use(metricsRoutes(metrics, config))
    // Sign-in, the account and admin pages, and single sign-on (when set up), one plugin for the type depth as below.
    .use(
      new Elysia({ name: "account-pages" })
        .use(authRoutes(auth, config, assets.urls, createLimitsService(database.db), sso))
        .use(sso ? ssoRoutes(sso, auth, config, authPages(auth, config, assets.urls)) : new Elysia()),
    )
    // The admin's groups and MCP servers, one plugin: each .use deepens the app's type, and TypeScript's limit is near.
    .use(
      new Elysia({ name: "admin-pages" })
        .use(groupRoutes(createGroupService({ database }), auth, assets.urls))
        .use(toolsRoutes(createToolsService({ database }), auth, assets.urls)),
    )
    .use(usageRoutes(usage, auth, assets.urls))
    .use(auditRoutes(auditLog, auth, assets.urls, config.auditRetentionDays))
    .use(bulkRoutes(chat, auth))
    .use(chatRoutes(chat, picker, auth, upstream, assets.urls, config.defaultModel))
    .use(chatSettingsRoutes(chat, auth))
    .use(presetRoutes(createPresetService({ database, chat }), picker, auth, assets.urls, config.defaultModel))
    .use(projectRoutes(createProjectService({ database, chat, files }), files, picker, auth, assets.urls))
    .use(pickerRoutes(picker, auth))
    .use(searchRoutes(createSearchService(database), auth))
    .use(shareRoutes(createShareService({ database }), auth, assets.urls, config))
    .use(transferRoutes(transfer, auth, assets.urls, config.publicUrl))
    .use(fileRoutes(files, auth))
    .use(keyRoutes(keys, auth, config))
    .use(apiRoutes(createApiService({ database, upstream, models: () => chat.models(), log }), keys, config))
    .use(chatSocket(chat, auth, sockets, publicUrl(config), log, impaired))
    .onStart(({ server }) => {
      bus.server = server ?? undefined;
    });
  return app;
}

export type App = ReturnType<typeof createApp>;
