import { Elysia } from "elysia";
import { ProjectFiles } from "../../views/components/project-files.tsx";
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
import { FileError } from "../files/kinds.ts";
import { refuseTooLarge, uploads } from "../files/routes.ts";
import type { FileService } from "../files/service.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import type { PickerService } from "../picker/service.ts";
import type { ProjectService } from "./service.ts";

/** Uploads to a project take bodies up to a file's limit, like POST /files (see http/body-limit.ts). */
export const PROJECT_UPLOAD_ROUTE = "POST /projects/:id/files";

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
  "files-added": "The files are added: they go with every chat in the project.",
  "file-removed": "The file is out of the project (messages that carry it keep it).",
} as const;
const done = (code: unknown) =>
  typeof code === "string" && code in DONE ? DONE[code as keyof typeof DONE] : undefined;

const quoted = (names: { name: string }[]) => names.map((f) => `“${f.name}”`).join(", ");

/** What adding files to a project did, in a sentence. */
function addedSentence({ added, already }: { added: { name: string }[]; already: { name: string }[] }): string {
  const parts = [];
  if (added.length) parts.push(`Added ${quoted(added)}: sent with every chat in the project.`);
  if (already.length) parts.push(`${quoted(already)} ${already.length === 1 ? "was" : "were"} in the project already.`);
  return parts.join(" ");
}

/**
 * The Projects page and a project's page (plain forms, redirect after each change), its files
 * (plain multipart forms, or htmx swapping the Files section), and "Move to…" on a chat (htmx:
 * its menu, and the move).
 */
export function projectRoutes(
  projects: ProjectService,
  files: FileService,
  picker: PickerService,
  auth: AuthService,
  assets: AssetUrls,
) {
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
  /** The Files section alone, as htmx swaps it, with what was done or refused (focused: it is what changed). */
  const filesPart = async (user: User, id: string, said: { error?: string; notice?: string }) =>
    ProjectFiles({ projectId: id, files: (await projects.files(user.id, id)) ?? [], focus: true, ...said });

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
    .post(
      "/projects/:id/files",
      async ({ me, params, request, headers, redirect }) => {
        const user = me!.user;
        // Someone else's project is refused before a byte of the upload is read.
        if (!(await projects.get(user.id, params.id))) return missing(user);
        try {
          refuseTooLarge(request, files.limits.fileBytes);
          const done = await projects.addFiles(user.id, params.id, await uploads(request));
          if (!done) return missing(user);
          if (!headers["hx-request"]) return redirect(`/projects/${params.id}?done=files-added#files`, 303);
          return filesPart(user, params.id, { notice: addedSentence(done) });
        } catch (err) {
          if (!(err instanceof FileError)) throw err;
          // htmx swaps a 422 (see the layout's htmx-config); a plain form gets the page with its status.
          if (headers["hx-request"])
            return pageWithStatus(422, await filesPart(user, params.id, { error: err.message }));
          const page = await one(user, params.id, { error: err.message });
          return typeof page === "string" ? pageWithStatus(err.status, page) : page;
        }
      },
      // Read by the handler, after the sign-in, same-origin and ownership checks.
      { parse: "none" },
    )
    .post("/projects/:id/files/:file/delete", async ({ me, params, headers, redirect }) => {
      const user = me!.user;
      const file = (await projects.files(user.id, params.id))?.find((f) => f.id === params.file);
      if (!file || !(await projects.removeFile(user.id, params.id, params.file))) return missing(user);
      if (!headers["hx-request"]) return redirect(`/projects/${params.id}?done=file-removed#files`, 303);
      return filesPart(user, params.id, { notice: `“${file.name}” is out of the project.` });
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
