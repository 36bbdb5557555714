import { Elysia } from "elysia";
import { GroupPage, type GroupPageProps, GroupsPage } from "../../views/pages/groups.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { errorPage } from "../http/errors.ts";
import { pageWithStatus } from "../http/page.ts";
import { GroupError, type GroupService, NO_SUCH_GROUP } from "./service.ts";

type Form = Record<string, unknown>;
const form = (body: unknown): Form => (body && typeof body === "object" && !Array.isArray(body) ? (body as Form) : {});
const text = (v: unknown) => (typeof v === "string" ? v.slice(0, 50_000) : undefined);

const ONLY_ADMIN = "Only an admin can do that: this page is for whoever looks after this Parley.";
// Confirmations after a redirect are named by code, never carried as text in the URL.
const DONE = {
  created: "The group is created.",
  renamed: "The group is renamed.",
  deleted: "The group is deleted.",
  added: "The person is added to the group.",
  removed: "The person is taken out of the group.",
  models: "The group's models are saved.",
  limits: "The group's limits are saved.",
} as const;
const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } });
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

/** The admin's groups pages (/admin/groups): plain forms, each answered by a redirect or the page with its sentence. */
export function groupRoutes(groups: GroupService, auth: AuthService, assets: AssetUrls) {
  const listPage = async (user: User, extra: { error?: string; notice?: string; name?: string } = {}) =>
    GroupsPage({ assets, user, groups: await groups.list(), ...extra });

  const groupPage = async (user: User, id: unknown, extra: Pick<GroupPageProps, "error" | "notice" | "values">) => {
    const found = await groups.page(id);
    if (!found) return pageWithStatus(404, await listPage(user, { error: NO_SUCH_GROUP }));
    return GroupPage({ assets, user, ...found, ...extra });
  };

  /** Runs a change; refused, the group's page again with the sentence and what was typed. */
  const change = async (
    user: User,
    id: string,
    action: () => Promise<string>,
    values: GroupPageProps["values"] = {},
  ): Promise<unknown> => {
    try {
      return seeOther(await action());
    } catch (err) {
      if (!(err instanceof GroupError)) throw err;
      const page = await groupPage(user, id, { error: err.message, values });
      return page instanceof Response ? page : pageWithStatus(400, await page);
    }
  };
  const to = (id: string, code: keyof typeof DONE) => `/admin/groups/${id}?done=${code}`;

  return new Elysia({ name: "group-routes" })
    .use(requireSignIn(auth))
    .onBeforeHandle({ as: "local" }, async ({ me, request, status }) => {
      if (me!.user.isAdmin) return;
      if (!(request.headers.get("accept") ?? "").includes("text/html")) return status(403, ONLY_ADMIN);
      return pageWithStatus(403, await errorPage(403, ONLY_ADMIN, assets));
    })
    .get("/admin/groups", ({ me, query }) => listPage(me!.user, { notice: done(query.done) }))
    .post("/admin/groups", async ({ me, body }) => {
      const f = form(body);
      try {
        const group = await groups.create(me!.user, f.name);
        return seeOther(to(group.id, "created"));
      } catch (err) {
        if (!(err instanceof GroupError)) throw err;
        return pageWithStatus(400, await listPage(me!.user, { error: err.message, name: text(f.name)?.slice(0, 60) }));
      }
    })
    .get("/admin/groups/:id", ({ me, params, query }) => groupPage(me!.user, params.id, { notice: done(query.done) }))
    .post("/admin/groups/:id/name", ({ me, params, body }) => {
      const name = form(body).name;
      return change(
        me!.user,
        params.id,
        async () => to((await groups.rename(me!.user, params.id, name)).id, "renamed"),
        { name: text(name)?.slice(0, 60) },
      );
    })
    .post("/admin/groups/:id/delete", ({ me, params }) =>
      change(me!.user, params.id, async () => {
        await groups.remove(me!.user, params.id);
        return "/admin/groups?done=deleted";
      }),
    )
    .post("/admin/groups/:id/members", ({ me, params, body }) =>
      change(me!.user, params.id, async () => {
        await groups.addMember(me!.user, params.id, form(body).user);
        return to(params.id, "added");
      }),
    )
    .post("/admin/groups/:id/members/:user/remove", ({ me, params }) =>
      change(me!.user, params.id, async () => {
        await groups.removeMember(me!.user, params.id, params.user);
        return to(params.id, "removed");
      }),
    )
    .post("/admin/groups/:id/models", ({ me, params, body }) => {
      const f = form(body);
      return change(
        me!.user,
        params.id,
        async () => {
          await groups.setModels(me!.user, params.id, f.mode, f.patterns);
          return to(params.id, "models");
        },
        { mode: text(f.mode), patterns: text(f.patterns) },
      );
    })
    .post("/admin/groups/:id/limits", ({ me, params, body }) => {
      const f = form(body);
      return change(
        me!.user,
        params.id,
        async () => {
          await groups.setLimits(me!.user, params.id, f.daily, f.monthly);
          return to(params.id, "limits");
        },
        { daily: text(f.daily)?.slice(0, 40), monthly: text(f.monthly)?.slice(0, 40) },
      );
    });
}
