import { Elysia } from "elysia";
import { ComposerControls, ComposerStatus } from "../../views/components/composer.tsx";
import { ChatNav } from "../../views/components/sidebar.tsx";
import { TranscriptLive } from "../../views/pages/chat.tsx";
import { sameOrigin } from "../http/origin.ts";
import type { Logger } from "../log.ts";
import { html, topics } from "./broadcast.ts";
import { ChatError, type ChatService } from "./service.ts";

/** Largest frame a tab may send: a full message plus the form's few other fields. */
export const MAX_FRAME_BYTES = 256 * 1024;

type Frame = { action?: unknown; chat?: unknown; content?: unknown; message?: unknown };

type Closable = { close(code?: number, reason?: string): void };

/** The open sockets, so a shutdown can tell each tab to come back. */
export function createSocketRegistry() {
  const open = new Set<Closable>();
  return {
    add: (ws: Closable) => open.add(ws),
    delete: (ws: Closable) => open.delete(ws),
    get size() {
      return open.size;
    },
    /** 1012 "service restart": htmx-ext-ws reconnects (with backoff) only after 1006/1011/1012/1013. */
    closeAll() {
      for (const ws of open) ws.close(1012, "Parley is restarting");
      open.clear();
    },
  };
}
export type SocketRegistry = ReturnType<typeof createSocketRegistry>;

/**
 * One WebSocket per tab. It hears its chat's events and the sidebar's, and carries the person's
 * sends, stops and retries (htmx-ext-ws posts forms as JSON). A bad frame gets an error next to
 * the composer; the socket stays open.
 */
export function chatSocket(service: ChatService, sockets: SocketRegistry, publicUrl: string, log: Logger) {
  const errorTo = (ws: { send(data: string): unknown }, message: string) =>
    ws.send(html(ComposerStatus({ text: message, kind: "error", oob: true })));

  return new Elysia({ name: "chat-socket" }).ws("/ws", {
    maxPayloadLength: MAX_FRAME_BYTES,
    idleTimeout: 120,
    beforeHandle({ request, status }) {
      // A page on another site must not open a socket with this person's cookies.
      if (!sameOrigin(request, publicUrl)) return status(403, "Cross-origin WebSocket refused.");
    },
    close(ws) {
      sockets.delete(ws.raw);
    },
    async open(ws) {
      sockets.add(ws.raw);
      ws.subscribe(topics.sidebar);
      const query = ws.data.query as Record<string, string | undefined>;
      const chatId = query.chat;
      // A tab coming back after a drop may have missed chat-list changes.
      void service
        .sidebar()
        .then(({ chats, generating }) => ws.send(html(ChatNav({ chats, generating, oob: true }))))
        .catch((err) => log.warn("could not send the chat list", { error: err }));
      if (!chatId) return;
      // Subscribe before reading: events from here on arrive after the snapshot or are
      // superseded by it; nothing falls between.
      ws.subscribe(topics.chat(chatId));
      try {
        const chat = await service.getChat(chatId);
        if (!chat) {
          ws.unsubscribe(topics.chat(chatId));
          errorTo(ws, "This chat does not exist; it may have been deleted.");
          return;
        }
        await service.resync(chat.id, query.since, (messages, streamingId) => {
          ws.send(
            html(TranscriptLive({ messages, oob: true })) +
              html(ComposerControls({ chatId: chat.id, streamingMessageId: streamingId, oob: true })),
          );
        });
      } catch (err) {
        log.error("resync failed", { chatId, error: err });
        errorTo(ws, "Could not load this chat's latest messages; reload the page.");
      }
    },
    async message(ws, raw) {
      const frame = parseFrame(raw);
      if (!frame) return errorTo(ws, "That message could not be read.");
      try {
        switch (frame.action) {
          case "send":
            if (typeof frame.chat !== "string") return errorTo(ws, "That message names no chat.");
            await service.send(frame.chat, frame.content);
            return;
          case "stop":
            return service.stop(frame.message);
          case "retry":
            await service.retry(frame.message);
            return;
          default:
            return errorTo(ws, "That action is not known.");
        }
      } catch (err) {
        if (err instanceof ChatError) return errorTo(ws, err.message);
        log.error("socket action failed", { action: String(frame.action), error: err });
        return errorTo(ws, "Something went wrong on our side; it has been logged. Try again.");
      }
    },
  });
}

/** Elysia hands over parsed JSON when it can; anything else that is not an object is refused. */
function parseFrame(raw: unknown): Frame | undefined {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      return undefined;
    }
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return undefined;
  return value as Frame;
}
