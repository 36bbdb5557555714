import { Elysia } from "elysia";
import { ChatListPage, ProjectGroupChats } from "../../views/components/sidebar.tsx";
import { ArchivePage } from "../../views/pages/archive.tsx";
import { ChatPage, type ChatPageProps, OlderMessages } from "../../views/pages/chat.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { User } from "../db/schema.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import { MAX_MESSAGE_LENGTH } from "../limits.ts";
import { NO_API_KEY, type Upstream } from "../llm/openrouter.ts";
import type { PickerService } from "../picker/service.ts";
import { ChatError, NO_SUCH_PRESET, NO_SUCH_PROJECT } from "./errors.ts";
import type { ChatService } from "./service.ts";

type Form = Record<string, unknown>;
/** Form fields, or none when the body is not an object (a hostile client may send anything). */
const asForm = (body: unknown): Form =>
  body && typeof body === "object" && !Array.isArray(body) ? (body as Form) : {};

/** Runs an action; a ChatError (the person's input was refused) becomes a 400 with its sentence. */
async function refusable(action: () => Promise<unknown>): Promise<unknown> {
  try {
    return await action();
  } catch (err) {
    if (err instanceof ChatError) return new Response(err.message, { status: 400 });
    throw err;
  }
}

/** The pages and the few HTTP actions; sending, stopping and retrying go over the socket. */
export function chatRoutes(
  service: ChatService,
  picker: PickerService,
  auth: AuthService,
  upstream: Upstream,
  assets: AssetUrls,
  defaultModel: string,
) {
  async function page(user: User, extra: Partial<ChatPageProps> & Pick<ChatPageProps, "messages" | "hasOlder">) {
    // The open chat's project group opens with its chats, so the chat shows where it is.
    const grouped = extra.chat?.projectId ?? undefined;
    const [{ pinned, chats, generating, more }, groups, models, spending, groupChats] = await Promise.all([
      service.sidebar(user.id),
      service.projectGroups(user.id),
      picker.choices(user.id),
      service.allowances(user.id),
      grouped ? service.projectChats(user.id, grouped) : undefined,
    ]);
    // A new chat starts on the model chosen last, unless the person's groups no longer allow it.
    const preferred = user.model ?? defaultModel;
    const start =
      models.restricted && models.models.length && !models.models.some((m) => m.id === preferred)
        ? models.models[0]!.id
        : preferred;
    return ChatPage({
      assets,
      user,
      pinned,
      chats,
      generating,
      more,
      groups,
      openGroup: grouped && groupChats ? { id: grouped, ...groupChats } : undefined,
      models,
      defaultModel: start,
      maxLength: MAX_MESSAGE_LENGTH,
      spending,
      temporaryHours: service.temporary.hours,
      notice: upstream.hasKey ? undefined : NO_API_KEY.replace(" Your message is saved.", ""),
      ...extra,
    });
  }

  return (
    new Elysia({ name: "chat-routes" })
      .use(requireSignIn(auth))
      .get("/", async ({ me, query }) => {
        // ?preset=<id>: the new chat starts from that preset; ?project=<id>: in that project
        // (another person's is unknown here too).
        const { presets, preset, project, missing } = await service.newChat(me!.user.id, query.preset, query.project);
        if (!missing) return page(me!.user, { messages: [], hasOlder: false, presets, preset, project });
        return pageWithStatus(
          404,
          await page(me!.user, {
            messages: [],
            hasOlder: false,
            presets,
            notice: missing === "preset" ? NO_SUCH_PRESET : NO_SUCH_PROJECT,
          }),
        );
      })
      // The sidebar's next page, as it is scrolled into view; an unknown chat to follow ends the list.
      .get("/chats/list", async ({ me, query }) =>
        ChatListPage(await service.sidebar(me!.user.id, typeof query.after === "string" ? query.after : "")),
      )
      // A sidebar project group's chats, loaded each time it is opened (and again after a push).
      .get("/projects/:id/chats", async ({ me, params, status }) => {
        const list = await service.projectChats(me!.user.id, params.id);
        if (!list) return status(404, NO_SUCH_PROJECT);
        return ProjectGroupChats({ id: params.id, ...list });
      })
      .get("/chats/:id", async ({ me, params, query }) => {
        const opened = await service.openChat(me!.user.id, params.id, query.at);
        if (!opened) {
          return pageWithStatus(
            404,
            await page(me!.user, { messages: [], hasOlder: false, notice: "There is no such chat." }),
          );
        }
        return page(me!.user, opened);
      })
      .get("/chats/:id/messages", async ({ me, params, query, status }) => {
        const older = await service.olderMessages(me!.user.id, params.id, String(query.before ?? ""));
        if (!older) return status(404, "There is no such chat.");
        return OlderMessages({ chatId: params.id, ...older });
      })
      // Where a refused first message leaves the address bar: reloaded or opened again, the
      // new-chat page rather than a 404.
      .get("/chats", ({ redirect }) => redirect("/", 303))
      .post("/chats", async ({ me, body, redirect }) => {
        const form = asForm(body);
        try {
          const chat = await service.startChat(me!.user.id, form.content, form.model, form.preset, form.attachment, {
            // The new-chat page's "Temporary chat" switch (see temporary/service.ts).
            temporary: form.temporary === "on",
            // The new-chat page started from a project (src/projects/).
            project: form.project,
            webSearch: form.webSearch,
          });
          // The next new chat starts with the model this person chose last.
          if (chat.model !== me!.user.model) await auth.setModel(me!.user.id, chat.model);
          return redirect(`/chats/${chat.id}`, 303);
        } catch (err) {
          if (!(err instanceof ChatError)) throw err;
          const draft = typeof form.content === "string" ? form.content : undefined;
          // The switch stays as it was: sent again, the chat must not be kept by surprise.
          const temporary = form.temporary === "on";
          return pageWithStatus(
            400,
            await page(me!.user, { messages: [], hasOlder: false, notice: err.message, draft, temporary }),
          );
        }
      })
      // Plain forms, from the chat's header and the Archive page: they work without script.
      .post("/chats/:id/pin", ({ me, params, body, redirect, status }) =>
        refusable(async () => {
          const chat = await service.pin(me!.user.id, params.id, asForm(body).pinned !== "false");
          return chat ? redirect(`/chats/${chat.id}`, 303) : status(404, "There is no such chat.");
        }),
      )
      .post("/chats/:id/archive", ({ me, params, body, redirect, status }) =>
        refusable(async () => {
          const form = asForm(body);
          const archived = form.archived !== "false";
          const chat = await service.archive(me!.user.id, params.id, archived);
          if (!chat) return status(404, "There is no such chat.");
          // Archived from its page, the chat leaves the list: a new chat is where one goes next.
          if (archived) return redirect("/", 303);
          return redirect(form.back === "archive" ? "/archive" : `/chats/${chat.id}`, 303);
        }),
      )
      .get("/archive", async ({ me, query }) =>
        ArchivePage({ assets, user: me!.user, ...(await service.archived(me!.user.id, query.before)) }),
      )
      .post("/archive/:id/delete", async ({ me, params, redirect, status }) =>
        (await service.remove(me!.user.id, params.id))
          ? redirect("/archive", 303)
          : status(404, "There is no such chat."),
      )
      .post("/chats/:id/title", ({ me, params, body, status }) =>
        refusable(async () => {
          const chat = await service.rename(me!.user.id, params.id, asForm(body).title);
          return chat ? status(204) : status(404, "There is no such chat.");
        }),
      )
      .post("/chats/:id/model", ({ me, params, body, status }) =>
        refusable(async () => {
          const chat = await service.setModel(me!.user.id, params.id, asForm(body).model);
          return chat ? status(204) : status(404, "There is no such chat.");
        }),
      )
      .delete("/chats/:id", async ({ me, params, set, status }) => {
        if (!(await service.remove(me!.user.id, params.id))) return status(404, "There is no such chat.");
        set.headers["hx-redirect"] = "/";
        return status(204);
      })
  );
}
