import { Elysia } from "elysia";
import { type Database, ping } from "../db/client.ts";

/** `/healthz`: the process answers. `/readyz`: and so does its database. */
export function healthRoutes(database: Database) {
  return new Elysia({ name: "health" })
    .get("/healthz", () => ({ status: "ok", uptime: Math.round(process.uptime()) }))
    .get("/readyz", async ({ status }) => {
      if (await ping(database)) return { status: "ready", database: database.driver };
      return status(503, { status: "unavailable", database: database.driver, error: "The database does not answer." });
    });
}
