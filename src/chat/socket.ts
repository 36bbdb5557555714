import { Elysia } from "elysia";
import { ComposerControls, ComposerStatus } from "../../views/components/composer.tsx";
import { MessageArticle } from "../../views/components/message.tsx";
import { ServiceStatus } from "../../views/components/service-status.tsx";
import { ChatNav, ProjectGroups } from "../../views/components/sidebar.tsx";
import { ChatTitle, ChatUsage, TranscriptLive } from "../../views/pages/chat.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService, SignedIn } from "../auth/service.ts";
import { isUnavailable } from "../db/errors.ts";
import { DATABASE_UNAVAILABLE } from "../db/health.ts";
import { sameOrigin } from "../http/origin.ts";
import type { Logger } from "../log.ts";
import { html, topics } from "./broadcast.ts";
import type { Resync } from "./chats.ts";
import { ChatError, StillWriting } from "./errors.ts";
import { alreadyShown, type PageState, pageState } from "./page-state.ts";
import type { ChatService } from "./service.ts";

/**
 * Largest frame a tab may send: a full message plus the form's few other fields. A bigger one
 * closes the socket with 1009 (Bun does it before any of our code runs); app.js says why.
 */
export const MAX_FRAME_BYTES = 256 * 1024;

/** Why a socket past SOCKETS_PER_PERSON is closed (a close reason holds at most 123 bytes). */
export const TOO_MANY_SOCKETS =
  "Too many tabs and devices are connected to your account; close some, then reload this page.";

type Frame = {
  action?: unknown;
  chat?: unknown;
  content?: unknown;
  message?: unknown;
  attachment?: unknown;
  webSearch?: unknown;
  step?: unknown;
  approve?: unknown;
};

type Peer = {
  close(code?: number, reason?: string): void;
  /** Closes the connection at once, without a close frame: for a peer that answers nothing. */
  terminate(): void;
  ping(): unknown;
};

/**
 * The open sockets and their sessions, so a shutdown or a sign-out can reach each tab; and their
 * keep-alive. `ping()` runs every SOCKET_PING_INTERVAL_MS: each socket that sent something (a
 * pong, a message) since the previous round is pinged again; one that sent nothing is a peer gone
 * without a close frame (a laptop asleep, a dropped link) and is terminated, which runs the close
 * handler (out of this registry, off its topics). So a quiet tab's connection never goes longer
 * than one interval without a frame, and a vanished one is let go within two.
 *
 * It also counts each person's sockets in this process, across their sessions: past `perPerson`,
 * `add` refuses (each socket costs memory and a share of every fan-out to that person).
 */
export function createSocketRegistry({ perPerson }: { perPerson: number }) {
  const open = new Map<Peer, { sessionId: string; userId: string; heard: boolean }>();
  const counts = new Map<string, number>();
  const drop = (ws: Peer) => {
    const entry = open.get(ws);
    if (!entry) return;
    open.delete(ws);
    const n = (counts.get(entry.userId) ?? 1) - 1;
    if (n > 0) counts.set(entry.userId, n);
    else counts.delete(entry.userId);
  };
  return {
    /** False when the person already has `perPerson` sockets open here: the socket is not added. */
    add(ws: Peer, sessionId: string, userId: string): boolean {
      const n = counts.get(userId) ?? 0;
      if (n >= perPerson) return false;
      counts.set(userId, n + 1);
      open.set(ws, { sessionId, userId, heard: true });
      return true;
    },
    delete: drop,
    /** Anything received from the socket (a pong, a message) shows its peer is still there. */
    heard(ws: Peer) {
      const entry = open.get(ws);
      if (entry) entry.heard = true;
    },
    get size() {
      return open.size;
    },
    /** One keep-alive round; returns how many sockets were terminated as gone. */
    ping() {
      let gone = 0;
      for (const [ws, entry] of open) {
        if (entry.heard) {
          entry.heard = false;
          ws.ping();
          continue;
        }
        drop(ws);
        ws.terminate();
        gone++;
      }
      return gone;
    },
    /** 1012 "service restart": htmx-ext-ws reconnects (with backoff) only after 1006/1011/1012/1013. */
    closeAll(reason = "Parley is restarting") {
      for (const ws of open.keys()) ws.close(1012, reason);
      open.clear();
      counts.clear();
    },
    /** 4001: the session ended. htmx-ext-ws does not reconnect; app.js sends the tab to sign in. */
    closeSessions(sessionIds: string[]) {
      const ended = new Set(sessionIds);
      for (const [ws, { sessionId }] of open) {
        if (!ended.has(sessionId)) continue;
        drop(ws);
        ws.close(4001, "Signed out");
      }
    },
  };
}
export type SocketRegistry = ReturnType<typeof createSocketRegistry>;

/**
 * One WebSocket per tab. It hears its chat's events and the sidebar's, and carries the person's
 * sends, stops and retries (htmx-ext-ws posts forms as JSON). A bad frame gets an error next to
 * the composer; the socket stays open.
 */
export function chatSocket(
  service: ChatService,
  auth: AuthService,
  sockets: SocketRegistry,
  publicUrl: string,
  log: Logger,
  /** What the service-wide banner says now, if anything (the database is away). */
  impaired: () => string | undefined = () => undefined,
) {
  // Returns nothing, and so do the handlers: Elysia sends whatever a handler returns as one more
  // frame (`return ws.send(...)` used to follow each error with its byte count).
  const errorTo = (ws: { send(data: string): unknown }, message: string, whileWriting = false): void => {
    ws.send(html(ComposerStatus({ text: message, kind: "error", oob: true, whileWriting })));
  };

  const signedIn = (ws: { data: unknown }) => (ws.data as { me: SignedIn }).me;

  return new Elysia({ name: "chat-socket" }).use(requireSignIn(auth)).ws("/ws", {
    beforeHandle({ request, status }) {
      // A page on another site must not open a socket with this person's cookies.
      if (!sameOrigin(request, publicUrl)) return status(403, "Cross-origin WebSocket refused.");
    },
    close(ws): void {
      sockets.delete(ws.raw);
    },
    // Browsers answer the keep-alive pings by themselves (see createSocketRegistry). Elysia 1.4
    // hands this hook Bun's own socket, though its types name its wrapper: the key is Bun's either way.
    pong(ws): void {
      sockets.heard(((ws as { raw?: unknown }).raw ?? ws) as Peer);
    },
    async open(ws): Promise<void> {
      const { user, session } = signedIn(ws);
      if (!sockets.add(ws.raw, session.id, user.id)) {
        // 4029 (as HTTP's 429): htmx-ext-ws does not reconnect, and app.js shows the reason.
        ws.close(4029, TOO_MANY_SOCKETS);
        return;
      }
      ws.subscribe(topics.user(user.id));
      ws.subscribe(topics.site);
      const query = ws.data.query as Record<string, string | undefined>;
      const page = pageState(query);
      // Also when all is well, to a tab that shows the banner: it may be back from an outage.
      const trouble = impaired();
      if (!page || page.banner || trouble) ws.send(html(ServiceStatus({ text: trouble, oob: true })));
      const chatId = query.chat;
      // A tab coming back after a drop may have missed chat-list changes.
      void Promise.all([service.sidebar(user.id), service.projectGroups(user.id)])
        .then(([list, groups]) => {
          const nav = html(ChatNav({ ...list, oob: true }));
          if (!alreadyShown(page?.nav, nav)) ws.send(nav);
          const grouped = html(ProjectGroups({ groups, oob: true }));
          if (!alreadyShown(page?.groups, grouped)) ws.send(grouped);
        })
        .catch((err) => log.warn("could not send the chat list", { error: err }));
      if (!chatId) return;
      try {
        // Only the owner's socket may hear a chat. Subscribing comes before reading the
        // messages (so nothing falls between them), hence the ownership check before both.
        if (!(await service.getChat(user.id, chatId))) {
          errorTo(ws, "This chat does not exist; it may have been deleted.");
          return;
        }
        ws.subscribe(topics.chat(chatId));
        const chat = await service.getChat(user.id, chatId);
        if (!chat) {
          ws.unsubscribe(topics.chat(chatId));
          errorTo(ws, "This chat does not exist; it may have been deleted.");
          return;
        }
        await service.temporary.opened(chat);
        await service.resync(chat.id, query.since, page, (sync) => {
          const frame = resyncFrame(chat.id, sync, page);
          if (frame) ws.send(frame);
        });
      } catch (err) {
        if (isUnavailable(err)) return errorTo(ws, DATABASE_UNAVAILABLE);
        log.error("resync failed", { chatId, error: err });
        errorTo(ws, "Could not load this chat's latest messages; reload the page.");
      }
    },
    async message(ws, raw): Promise<void> {
      sockets.heard(ws.raw);
      const { user } = signedIn(ws);
      const frame = parseFrame(raw);
      if (!frame) return errorTo(ws, "That message could not be read.");
      try {
        switch (frame.action) {
          case "send":
            if (typeof frame.chat !== "string") return errorTo(ws, "That message names no chat.");
            await service.send(user.id, frame.chat, frame.content, frame.attachment, frame.webSearch);
            return;
          case "stop":
            await service.stop(user.id, frame.message);
            return;
          case "tool":
            service.decideTool(user.id, frame.message, frame.step, frame.approve === "yes");
            return;
          case "retry":
            await service.retry(user.id, frame.message);
            return;
          case "edit":
            await service.edit(user.id, frame.message, frame.content);
            return;
          case "switch":
            await service.switchBranch(user.id, frame.message);
            return;
          default:
            return errorTo(ws, "That action is not known.");
        }
      } catch (err) {
        // "Wait for the answer" is moot once it ends: the tab then clears it.
        if (err instanceof ChatError) return errorTo(ws, err.message, err instanceof StillWriting);
        if (isUnavailable(err)) return errorTo(ws, DATABASE_UNAVAILABLE);
        log.error("socket action failed", { action: String(frame.action), error: err });
        return errorTo(ws, "Something went wrong on our side; it has been logged. Try again.");
      }
    },
  });
}

/** What a (re)connecting tab lacks of its chat, as one frame; none when it lacks nothing. */
function resyncFrame(chatId: string, sync: Resync, page: PageState | undefined): string {
  const parts: string[] = [];
  if (sync.all) parts.push(html(TranscriptLive({ messages: sync.all, oob: true })));
  if (sync.changed) parts.push(html(MessageArticle({ ...sync.changed, oob: true })));
  if (sync.after.length) {
    // The first messages of a chat the page showed empty take the empty state's place.
    if (page && !page.last) parts.push(`<div id="empty-state" hx-swap-oob="delete"></div>`);
    const articles = sync.after.map((m) => html(MessageArticle(m))).join("");
    parts.push(`<div id="transcript-live" hx-swap-oob="beforeend">${articles}</div>`);
  }
  if (parts.length || !page) {
    parts.push(html(ComposerControls({ chatId, streamingMessageId: sync.streamingId, oob: true })));
  }
  if (sync.chat) {
    const title = html(ChatTitle({ chat: sync.chat.chat, oob: true }));
    const usage = html(ChatUsage({ totals: sync.chat.totals, oob: true }));
    if (!alreadyShown(page?.title, title)) parts.push(title);
    if (!alreadyShown(page?.usage, usage)) parts.push(usage);
  }
  return parts.join("");
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
