import { Elysia } from "elysia";
import { PresetStatus } from "../../views/components/chat-settings.tsx";
import { PresetsPage, type PresetsPageProps } from "../../views/pages/presets.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import { SettingsError } from "../chat/settings.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import type { PickerService } from "../picker/service.ts";
import type { PresetService } from "./service.ts";

const NO_SUCH_PRESET = "There is no such preset.";
const asForm = (body: unknown): Record<string, unknown> =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

// Confirmations after a redirect are named by code, never carried as text in the URL.
const DONE = {
  created: "The preset is saved.",
  saved: "The preset is changed.",
  deleted: "The preset is deleted.",
} as const;
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

/** The presets page (plain forms, redirect after each change) and "Save as a preset" in a chat's settings. */
export function presetRoutes(
  presets: PresetService,
  picker: PickerService,
  auth: AuthService,
  assets: AssetUrls,
  defaultModel: string,
) {
  const page = async (user: User, extra: Partial<PresetsPageProps> = {}) => {
    const [list, models] = await Promise.all([presets.list(user.id), picker.choices(user.id)]);
    return PresetsPage({ assets, user, presets: list, models, defaultModel: user.model ?? defaultModel, ...extra });
  };
  /** Runs a change; a refused value shows the page again with the form as sent and the reason. */
  const refusable = async (user: User, draft: PresetsPageProps["draft"], change: () => Promise<Response>) => {
    try {
      return await change();
    } catch (err) {
      if (!(err instanceof SettingsError)) throw err;
      return pageWithStatus(400, await page(user, { error: err.message, draft }));
    }
  };
  const missing = async (user: User) => pageWithStatus(404, await page(user, { error: NO_SUCH_PRESET }));

  return new Elysia({ name: "preset-routes" })
    .use(requireSignIn(auth))
    .get("/presets", ({ me, query }) => page(me!.user, { notice: done(query.done) }))
    .post("/presets", ({ me, body, redirect }) => {
      const form = asForm(body);
      return refusable(me!.user, { form }, async () => {
        await presets.create(me!.user.id, form);
        return redirect("/presets?done=created", 303);
      });
    })
    .post("/presets/:id", ({ me, params, body, redirect }) => {
      const form = asForm(body);
      return refusable(me!.user, { id: params.id, form }, async () => {
        if (!(await presets.update(me!.user.id, params.id, form))) return missing(me!.user);
        return redirect("/presets?done=saved", 303);
      });
    })
    .post("/presets/:id/delete", async ({ me, params, redirect }) => {
      if (!(await presets.remove(me!.user.id, params.id))) return missing(me!.user);
      return redirect("/presets?done=deleted", 303);
    })
    .post("/chats/:id/preset", async ({ me, params, body, status }) => {
      try {
        const preset = await presets.fromChat(me!.user.id, params.id, asForm(body).name);
        if (!preset) return status(404, "There is no such chat.");
        return PresetStatus({ preset });
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        return pageWithStatus(422, await PresetStatus({ error: err.message }));
      }
    });
}
