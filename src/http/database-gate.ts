import { Elysia } from "elysia";
import { apiError } from "../api/errors.ts";
import { DATABASE_UNAVAILABLE, type DbHealth } from "../db/health.ts";
import type { AssetUrls } from "./assets.ts";
import { errorPage } from "./errors.ts";

/** Served without the database: health checks, assets, the app manifest. */
const WITHOUT_DATABASE = [
  "/healthz",
  "/readyz",
  "/assets/",
  "/manifest.webmanifest",
  "/openapi.json",
  "/metrics",
  "/diagram-frame",
];

/**
 * While this process knows its database is unreachable, requests that need it are answered at
 * once with a 503 and the sentence, instead of each waiting for a connection that will not come.
 * The health keeps probing each second; the first answer opens the gate again.
 */
export function databaseGate(health: DbHealth, assets: AssetUrls) {
  return new Elysia({ name: "database-gate" }).onRequest(({ request, set }) => {
    if (health.trouble?.kind !== "unreachable") return;
    const path = new URL(request.url).pathname;
    if (WITHOUT_DATABASE.some((p) => path === p || (p.endsWith("/") && path.startsWith(p)))) return;
    set.status = 503;
    set.headers["retry-after"] = "5";
    // OpenAI's clients read an error's sentence from their own shape, and retry a 503 by themselves.
    if (path.startsWith("/v1/"))
      return apiError(503, DATABASE_UNAVAILABLE, "server_error", {
        code: "database_unavailable",
        headers: { "retry-after": "5" },
      });
    if (!(request.headers.get("accept") ?? "").includes("text/html"))
      return Response.json({ error: DATABASE_UNAVAILABLE }, { status: 503, headers: { "retry-after": "5" } });
    set.headers["content-type"] = "text/html; charset=utf-8";
    return errorPage(503, DATABASE_UNAVAILABLE, assets);
  });
}
