import { Elysia } from "elysia";
import { ChatPage, type ChatPageProps, OlderMessages } from "../../views/pages/chat.tsx";
import type { AssetUrls } from "../http/assets.ts";
import { NO_API_KEY, type Upstream } from "../llm/openrouter.ts";
import { ChatError, type ChatService, MAX_MESSAGE_LENGTH } from "./service.ts";

type Form = Record<string, unknown>;

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
export function chatRoutes(service: ChatService, upstream: Upstream, assets: AssetUrls, defaultModel: string) {
  async function page(extra: Partial<ChatPageProps> & Pick<ChatPageProps, "messages" | "hasOlder">) {
    const [{ chats, generating }, models] = await Promise.all([service.sidebar(), service.models()]);
    return ChatPage({
      assets,
      chats,
      generating,
      models,
      defaultModel,
      maxLength: MAX_MESSAGE_LENGTH,
      notice: upstream.hasKey ? undefined : NO_API_KEY.replace(" Your message is saved.", ""),
      ...extra,
    });
  }

  return new Elysia({ name: "chat-routes" })
    .get("/", () => page({ messages: [], hasOlder: false }))
    .get("/chats/:id", async ({ params, status }) => {
      const opened = await service.openChat(params.id);
      if (!opened) return status(404, await page({ messages: [], hasOlder: false, notice: "There is no such chat." }));
      return page(opened);
    })
    .get("/chats/:id/messages", async ({ params, query, status }) => {
      const older = await service.olderMessages(params.id, String(query.before ?? ""));
      if (!older) return status(404, "There is no such chat.");
      return OlderMessages({ chatId: params.id, ...older });
    })
    .post("/chats", async ({ body, redirect, status }) => {
      const form = (body ?? {}) as Form;
      try {
        const chat = await service.startChat(form.content, form.model);
        return redirect(`/chats/${chat.id}`, 303);
      } catch (err) {
        if (!(err instanceof ChatError)) throw err;
        return status(400, await page({ messages: [], hasOlder: false, notice: err.message }));
      }
    })
    .post("/chats/:id/title", ({ params, body, status }) =>
      refusable(async () => {
        const chat = await service.rename(params.id, ((body ?? {}) as Form).title);
        return chat ? status(204) : status(404, "There is no such chat.");
      }),
    )
    .post("/chats/:id/model", ({ params, body, status }) =>
      refusable(async () => {
        const chat = await service.setModel(params.id, ((body ?? {}) as Form).model);
        return chat ? status(204) : status(404, "There is no such chat.");
      }),
    )
    .delete("/chats/:id", async ({ params, set, status }) => {
      if (!(await service.remove(params.id))) return status(404, "There is no such chat.");
      set.headers["hx-redirect"] = "/";
      return status(204);
    });
}
