import { Elysia } from "elysia";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import { ChatError } from "../chat/errors.ts";
import type { ChatService } from "../chat/service.ts";

const asForm = (body: unknown): Record<string, unknown> =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/**
 * POST /chats/bulk: the sidebar's Select form (`action`=archive|delete|move, `project` for a move,
 * empty for out of any project, and `ids` repeated). htmx gets 204 (the list is pushed to every
 * tab); the plain form, sent without script, goes back to a new chat.
 */
export function bulkRoutes(chat: ChatService, auth: AuthService) {
  return new Elysia({ name: "bulk-routes" })
    .use(requireSignIn(auth))
    .post("/chats/bulk", async ({ me, body, headers, status, redirect }) => {
      const form = asForm(body);
      try {
        const result = await chat.bulk.run(me!.user.id, form.action, form.ids, form.project);
        if (result === "no-project") return status(404, "There is no such project.");
        if (result === "no-chats") return status(404, "None of those chats is in your list any more.");
        return headers["hx-request"] ? status(204) : redirect("/", 303);
      } catch (err) {
        if (err instanceof ChatError) return status(400, err.message);
        throw err;
      }
    });
}
