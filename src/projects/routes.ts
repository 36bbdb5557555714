import { Elysia } from "elysia";
import { MovePanel } from "../../views/components/projects.tsx";
import {
  ProjectPage,
  type ProjectPageProps,
  ProjectsPage,
  type ProjectsPageProps,
} from "../../views/pages/projects.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import { SettingsError } from "../chat/settings.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import type { PickerService } from "../picker/service.ts";
import type { ProjectService } from "./service.ts";

const NO_SUCH_PROJECT = "There is no such project.";
const NO_SUCH_CHAT = "There is no such chat.";
const asForm = (body: unknown): Record<string, unknown> =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : {};

// Confirmations after a redirect are named by code, never carried as text in the URL.
const DONE = {
  created: "The project is made.",
  saved: "The project is changed.",
  deleted: "The project is deleted; its chats were kept.",
  "deleted-chats": "The project is deleted, and its chats with it.",
} as const;
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

/**
 * The Projects page and a project's page (plain forms, redirect after each change), and
 * "Move to…" on a chat (htmx: its menu, and the move).
 */
export function projectRoutes(projects: ProjectService, picker: PickerService, auth: AuthService, assets: AssetUrls) {
  const list = async (user: User, extra: Partial<ProjectsPageProps> = {}) => {
    const [all, models] = await Promise.all([projects.list(user.id), picker.choices(user.id)]);
    return ProjectsPage({ assets, user, projects: all, models, ...extra });
  };
  const missing = async (user: User) => pageWithStatus(404, await list(user, { error: NO_SUCH_PROJECT }));
  const one = async (user: User, id: unknown, extra: Partial<ProjectPageProps> = {}) => {
    const [opened, models, count] = await Promise.all([
      projects.open(user.id, id),
      picker.choices(user.id),
      projects.chatCount(user.id, id),
    ]);
    if (!opened) return missing(user);
    return ProjectPage({ assets, user, ...opened, models, deleteCount: count ?? 0, ...extra });
  };

  return new Elysia({ name: "project-routes" })
    .use(requireSignIn(auth))
    .get("/projects", ({ me, query }) => list(me!.user, { notice: done(query.done) }))
    .post("/projects", async ({ me, body, redirect }) => {
      const form = asForm(body);
      try {
        const project = await projects.create(me!.user.id, form);
        return redirect(`/projects/${project.id}?done=created`, 303);
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        return pageWithStatus(400, await list(me!.user, { error: err.message, draft: form }));
      }
    })
    .get("/projects/:id", ({ me, params, query }) => one(me!.user, params.id, { notice: done(query.done) }))
    .post("/projects/:id", async ({ me, params, body, redirect }) => {
      const form = asForm(body);
      try {
        if (!(await projects.update(me!.user.id, params.id, form))) return missing(me!.user);
        return redirect(`/projects/${params.id}?done=saved`, 303);
      } catch (err) {
        if (!(err instanceof SettingsError)) throw err;
        const page = await one(me!.user, params.id, { error: err.message, draft: form });
        return typeof page === "string" ? pageWithStatus(400, page) : page;
      }
    })
    .post("/projects/:id/delete", async ({ me, params, body, redirect }) => {
      // Deleting the chats too must be asked for by name; anything else keeps them.
      const withChats = asForm(body).chats === "delete";
      const deleted = await projects.remove(me!.user.id, params.id, withChats);
      if (deleted === undefined) return missing(me!.user);
      return redirect(`/projects?done=${withChats && deleted ? "deleted-chats" : "deleted"}`, 303);
    })
    .get("/chats/:id/move", async ({ me, params, status }) => {
      const choices = await projects.moveChoices(me!.user.id, params.id);
      if (!choices) return status(404, NO_SUCH_CHAT);
      return MovePanel(choices);
    })
    .post("/chats/:id/project", async ({ me, params, body, headers, status, redirect }) => {
      const moved = await projects.move(me!.user.id, params.id, asForm(body).project);
      if (moved === "no-project") return status(404, NO_SUCH_PROJECT);
      if (!moved) return status(404, NO_SUCH_CHAT);
      // Sent as a plain form (no script yet, or a choice made before htmx took the panel in):
      // back to the chat, which shows where it is now.
      return headers["hx-request"] ? status(204) : redirect(`/chats/${moved.id}`, 303);
    });
}
