import { Elysia } from "elysia";
import { AuditLogPage } from "../../views/pages/audit.tsx";
import { requireAdmin } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import type { AuditService } from "./service.ts";

/** The admin's audit log page (/admin/audit): filters and paging in the query string. */
export function auditRoutes(log: AuditService, auth: AuthService, assets: AssetUrls, retentionDays: number) {
  return new Elysia({ name: "audit-routes" })
    .use(requireAdmin(auth, assets))
    .get("/admin/audit", async ({ me, query }) => {
      const page = await log.page(query);
      const html = await AuditLogPage({ assets, user: me!.user, log: page, retentionDays });
      return page.error ? pageWithStatus(400, html) : html;
    });
}
