import { Elysia } from "elysia";
import { SettingsPanel, SettingsSummary } from "../../views/components/chat-settings.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import { pageWithStatus } from "../http/page.ts";
import type { ChatService } from "./service.ts";
import { SettingsError } from "./settings.ts";

const NO_SUCH_CHAT = "There is no such chat.";
const asForm = (body: unknown): Record<string, unknown> =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

/**
 * A chat's settings dialog (htmx fragments): its system prompt and parameters. A refused value
 * answers 422 with the form as sent and the reason (the layout has htmx swap 422s in).
 */
export function chatSettingsRoutes(service: ChatService, auth: AuthService) {
  return new Elysia({ name: "chat-settings-routes" })
    .use(requireSignIn(auth))
    .get("/chats/:id/settings", async ({ me, params, status }) => {
      const found = await service.settings(me!.user.id, params.id);
      if (!found) return status(404, NO_SUCH_CHAT);
      return SettingsPanel(found);
    })
    .post("/chats/:id/settings", async ({ me, params, body, status }) => {
      const form = asForm(body);
      try {
        const saved = await service.saveSettings(me!.user.id, params.id, form);
        if (!saved) return status(404, NO_SUCH_CHAT);
        // The header's summary changes with it.
        return `${SettingsPanel({ ...saved, saved: true })}${SettingsSummary({ chat: saved.chat, oob: true })}`;
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        const found = await service.settings(me!.user.id, params.id);
        if (!found) return status(404, NO_SUCH_CHAT);
        return pageWithStatus(422, await SettingsPanel({ ...found, values: form, error: err.message }));
      }
    });
}
