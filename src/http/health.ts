import { Elysia, t } from "elysia";
import type { Database } from "../db/client.ts";

const driver = t.Union([t.Literal("pglite"), t.Literal("postgres")], { description: "Which database Parley runs on." });

/** `/healthz`: the process answers. `/readyz`: and so does its database. */
export function healthRoutes(database: Database) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok" as const, uptime: Math.round(process.uptime()) }), {
      response: t.Object({
        status: t.Literal("ok"),
        uptime: t.Number({ description: "Seconds since the process started." }),
      }),
      detail: {
        tags: ["health"],
        summary: "The process answers",
        description: "200 as long as the process runs, whatever its database does (a liveness check).",
      },
    })
    .get(
      "/readyz",
      async ({ status }) => {
        const trouble = await database.health.check();
        if (!trouble) return { status: "ready" as const, database: database.driver };
        return status(503, {
          status: "unavailable" as const,
          database: database.driver,
          error:
            trouble.kind === "unreachable"
              ? `The database does not answer: ${trouble.reason}.`
              : `The database cannot save: ${trouble.reason}.`,
        });
      },
      {
        response: {
          200: t.Object({ status: t.Literal("ready"), database: driver }),
          503: t.Object({ status: t.Literal("unavailable"), database: driver, error: t.String() }),
        },
        detail: {
          tags: ["health"],
          summary: "The process and its database answer",
          description:
            "200 when the database answers a query within a second and its writes succeed; 503 when it does not answer, or writes fail (a full disk), or answers' ends wait to be saved (a readiness check: take this instance out of the load balancer meanwhile).",
        },
      },
    );
}
