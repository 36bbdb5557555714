import { Elysia } from "elysia";
import { ChatToolsPage, ToolServerPage, ToolsPage } from "../../views/pages/tools.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { errorPage } from "../http/errors.ts";
import { pageWithStatus } from "../http/page.ts";
import { NO_SUCH_SERVER, ToolsError, type ToolsService } from "./service.ts";

type Form = Record<string, unknown>;
const form = (body: unknown): Form => (body && typeof body === "object" && !Array.isArray(body) ? (body as Form) : {});

const ONLY_ADMIN = "Only an admin can do that: this page is for whoever looks after this Parley.";
const NO_SUCH_CHAT = "There is no such chat.";
// Confirmations after a redirect are named by code, never carried as text in the URL.
const DONE = {
  created: "The server is registered.",
  tools: "Its tools are saved.",
  approval: "Approval is saved.",
  credentials: "Its credentials are replaced.",
  deleted: "The server is removed.",
  chat: "This chat's tools are saved.",
} as const;
const seeOther = (location: string) => new Response(null, { status: 303, headers: { location } });
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

/** The admin's MCP servers (/admin/tools), and each chat's choice of them (/chats/:id/tools). */
export function toolsRoutes(tools: ToolsService, auth: AuthService, assets: AssetUrls) {
  const listPage = async (user: User, extra: { error?: string; notice?: string } = {}) =>
    ToolsPage({ assets, user, servers: await tools.list(), ...extra });
  const serverPage = async (user: User, id: unknown, extra: { error?: string; notice?: string } = {}) => {
    const found = await tools.page(id);
    if (!found) return pageWithStatus(404, await listPage(user, { error: NO_SUCH_SERVER }));
    return ToolServerPage({ assets, user, ...found, ...extra });
  };
  /** Runs an admin's change; refused, the page again with the sentence. */
  const change = async (user: User, id: string | undefined, action: () => Promise<string>) => {
    try {
      return seeOther(await action());
    } catch (err) {
      if (!(err instanceof ToolsError)) throw err;
      const page = id
        ? await serverPage(user, id, { error: err.message })
        : await listPage(user, { error: err.message });
      return page instanceof Response ? page : pageWithStatus(400, page);
    }
  };
  const to = (id: string, code: keyof typeof DONE) => `/admin/tools/${id}?done=${code}`;

  const admin = new Elysia({ name: "tools-admin-routes" })
    .use(requireSignIn(auth))
    .onBeforeHandle({ as: "local" }, async ({ me, request, status }) => {
      if (me!.user.isAdmin) return;
      if (!(request.headers.get("accept") ?? "").includes("text/html")) return status(403, ONLY_ADMIN);
      return pageWithStatus(403, await errorPage(403, ONLY_ADMIN, assets));
    })
    .get("/admin/tools", ({ me, query }) => listPage(me!.user, { notice: done(query.done) }))
    .post("/admin/tools", ({ me, body }) =>
      change(me!.user, undefined, async () => to((await tools.create(me!.user, form(body))).id, "created")),
    )
    .get("/admin/tools/:id", ({ me, params, query }) => serverPage(me!.user, params.id, { notice: done(query.done) }))
    .post("/admin/tools/:id/tools", ({ me, params, body }) =>
      change(me!.user, params.id, async () => to((await tools.setTools(me!.user, params.id, form(body))).id, "tools")),
    )
    .post("/admin/tools/:id/approval", ({ me, params, body }) =>
      change(me!.user, params.id, async () =>
        to((await tools.setApproval(me!.user, params.id, form(body))).id, "approval"),
      ),
    )
    .post("/admin/tools/:id/credentials", ({ me, params, body }) =>
      change(me!.user, params.id, async () =>
        to((await tools.setCredentials(me!.user, params.id, form(body))).id, "credentials"),
      ),
    )
    // Refused only when the server is gone: its page then answers 404 with the list and why.
    .post("/admin/tools/:id/delete", ({ me, params }) =>
      change(me!.user, params.id, async () => {
        await tools.remove(me!.user, params.id);
        return "/admin/tools?done=deleted";
      }),
    );

  const chat = new Elysia({ name: "chat-tools-routes" })
    .use(requireSignIn(auth))
    .get("/chats/:id/tools", async ({ me, params, query }) => {
      const found = await tools.forChat(me!.user.id, params.id);
      if (!found) return pageWithStatus(404, await errorPage(404, NO_SUCH_CHAT, assets));
      return ChatToolsPage({ assets, user: me!.user, chatId: params.id, ...found, notice: done(query.done) });
    })
    .post("/chats/:id/tools", async ({ me, params, body }) => {
      if (!(await tools.setForChat(me!.user.id, params.id, form(body))))
        return pageWithStatus(404, await errorPage(404, NO_SUCH_CHAT, assets));
      return seeOther(`/chats/${params.id}/tools?done=chat`);
    });

  return new Elysia({ name: "tools-routes" }).use(admin).use(chat);
}
