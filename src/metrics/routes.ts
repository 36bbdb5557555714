import { Elysia } from "elysia";
import type { Config } from "../config.ts";
import type { Metrics } from "./metrics.ts";

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/**
 * GET /metrics. With METRICS_TOKEN set it needs `Authorization: Bearer <token>`; without, only
 * this machine may read it (and not through a proxy, which would make every client local).
 */
export function metricsRoutes(metrics: Metrics, config: Config) {
  return new Elysia({ name: "metrics" }).get("/metrics", async ({ request, server, status, set }) => {
    if (config.metricsToken) {
      if (request.headers.get("authorization") !== `Bearer ${config.metricsToken}`) {
        return status(401, "Metrics need Authorization: Bearer <METRICS_TOKEN>.");
      }
    } else {
      const local = LOOPBACK.has(server?.requestIP(request)?.address ?? "");
      if (!local || request.headers.has("x-forwarded-for")) {
        return status(403, "Metrics are served to this machine only; set METRICS_TOKEN to read them from elsewhere.");
      }
    }
    set.headers["content-type"] = metrics.registry.contentType;
    set.headers["cache-control"] = "no-store";
    return metrics.registry.metrics();
  });
}
