import { Elysia } from "elysia";
import type { UsageQuery } from "../../views/components/usage-report.tsx";
import { UsageReportView } from "../../views/components/usage-report.tsx";
import { UsagePage } from "../../views/pages/usage.tsx";
import { requireAdmin, requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { contentDisposition } from "../http/disposition.ts";
import { pageWithStatus } from "../http/page.ts";
import { periodQuery } from "./period.ts";
import { UsageError, type UsageService } from "./service.ts";

type Query = Record<string, string | undefined>;
const short = (v: unknown) => (typeof v === "string" ? v.slice(0, 40) : "");

/** What the form shows again: what was asked, the period's own dates where none were typed. */
const typed = (q: Query, dates?: { from: string; to: string }): UsageQuery => ({
  period: short(q.period) || "30",
  from: short(q.from) || dates?.from || "",
  to: short(q.to) || dates?.to || "",
  person: short(q.person),
});

const withQuery = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params)}`;

/**
 * What was spent: the admin's Usage page (everyone, or one person) and each person's own usage
 * (a section of the account page), each with its CSV.
 */
export function usageRoutes(usage: UsageService, auth: AuthService, assets: AssetUrls) {
  /** Everything a usage view needs from the query; throws UsageError on bad input. */
  const read = async (q: Query, own?: User) => {
    const period = usage.period(q);
    const person = own ? { id: own.id, username: own.username } : await usage.person(q.person);
    const report = await usage.report(period, person?.id);
    const params = { ...periodQuery(period), ...(!own && person ? { person: person.id } : {}) };
    return { period, person, report, params };
  };

  const csvResponse = (body: string, from: string, to: string, who?: string) =>
    new Response(body, {
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": contentDisposition("attachment", {
          ascii: `parley-usage${who ? "-mine" : ""}-${from}-to-${to}.csv`,
        }),
        "cache-control": "no-store",
      },
    });

  const admin = new Elysia()
    .use(requireAdmin(auth, assets))
    .get("/admin/usage", async ({ me, query }) => {
      const page = (extra: Parameters<typeof UsagePage>[0]) => UsagePage(extra);
      const base = { assets, user: me!.user, title: "Usage", action: "/admin/usage", people: await usage.people() };
      try {
        const { period, report, params } = await read(query);
        return page({ ...base, query: typed(query, period), report, csvUrl: withQuery("/admin/usage.csv", params) });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return pageWithStatus(400, await page({ ...base, query: typed(query), error: err.message }));
      }
    })
    .get("/admin/usage.csv", async ({ query, status }) => {
      try {
        const { period, report } = await read(query);
        return csvResponse(usage.csv(report), period.from, period.to);
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return status(400, err.message);
      }
    });

  const own = new Elysia()
    .use(requireSignIn(auth))
    // A section of the account page (htmx asks for the fragment), or a page of its own without script.
    .get("/account/usage", async ({ me, query, request }) => {
      const fragment = !!request.headers.get("hx-request");
      const base = { action: "/account/usage", fragment };
      const show = (props: Parameters<typeof UsageReportView>[0]) =>
        fragment ? UsageReportView(props) : UsagePage({ ...props, assets, user: me!.user, title: "Your usage" });
      try {
        const { period, report, params } = await read(query, me!.user);
        return show({ ...base, query: typed(query, period), report, csvUrl: withQuery("/account/usage.csv", params) });
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        // 422: htmx swaps it in, with its sentence (see responseHandling in the layout).
        return pageWithStatus(fragment ? 422 : 400, await show({ ...base, query: typed(query), error: err.message }));
      }
    })
    .get("/account/usage.csv", async ({ me, query, status }) => {
      try {
        const { period, report } = await read(query, me!.user);
        return csvResponse(usage.csv(report, { ownOnly: true }), period.from, period.to, "mine");
      } catch (err) {
        if (!(err instanceof UsageError)) throw err;
        return status(400, err.message);
      }
    });

  return new Elysia({ name: "usage-routes" }).use(admin).use(own);
}
