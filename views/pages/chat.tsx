import type { ShownMessage } from "../../src/chat/types.ts";
import type { Chat, Preset, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { dollars } from "../../src/limits.ts";
import type { ModelChoices } from "../../src/picker/types.ts";
import { SettingsButton, SettingsSummary } from "../components/chat-settings.tsx";
import { Composer } from "../components/composer.tsx";
import { MessageArticle } from "../components/message.tsx";
import { ModelPicker } from "../components/model-picker.tsx";
import { PresetChosen, PresetMenu } from "../components/presets.tsx";
import { ServiceStatus } from "../components/service-status.tsx";
import { ShareButton } from "../components/share.tsx";
import { ShortcutsDialog } from "../components/shortcuts.tsx";
import { Sidebar } from "../components/sidebar.tsx";
import { ExportMenu } from "../components/transfer.tsx";
import { Layout } from "../layout.tsx";

export type ChatPageProps = {
  assets: AssetUrls;
  user: User;
  chats: Chat[];
  generating: Set<string>;
  models: ModelChoices;
  defaultModel: string;
  maxLength: number;
  notice?: string;
  /** Absent on the new-chat page. */
  chat?: Chat;
  /** The new-chat page's: the person's presets, and the one the chat starts from. */
  presets?: Preset[];
  preset?: Preset;
  messages: ShownMessage[];
  hasOlder: boolean;
  totals?: Totals;
};

/** The app: sidebar, the open chat (or a new one), and the composer. */
export function ChatPage(props: ChatPageProps): JSX.Element {
  const { chat, messages } = props;
  const streaming = messages.find((m) => m.message.status === "streaming")?.message.id;
  // The socket resynchronises the live part of the transcript from its first message on.
  const since = messages[0]?.message.id;
  const wsUrl = chat ? `/ws?chat=${chat.id}${since ? `&since=${since}` : ""}` : "/ws";
  return (
    <Layout title={chat ? `${chat.title || "New chat"} · Parley` : "Parley"} assets={props.assets} picker>
      <div class="flex h-dvh flex-col md:flex-row">
        <header class="flex items-center justify-between border-b border-zinc-200 px-3 py-2 md:hidden dark:border-zinc-800">
          <button
            type="button"
            data-toggle="sidebar"
            aria-controls="sidebar"
            aria-expanded="false"
            class="rounded-md px-2 py-1 text-sm font-medium hover:bg-zinc-100 dark:hover:bg-zinc-800"
          >
            ☰ Chats
          </button>
          <span class="font-semibold">Parley</span>
        </header>
        <Sidebar chats={props.chats} generating={props.generating} currentId={chat?.id} user={props.user} />
        <main hx-ext="ws" ws-connect={wsUrl} class="flex min-h-0 min-w-0 flex-1 flex-col">
          <div
            id="connection-status"
            role="status"
            class="hidden bg-amber-100 px-3 py-1 text-center text-sm text-amber-900 dark:bg-amber-900 dark:text-amber-100"
          >
            Connection lost; reconnecting…
          </div>
          <ServiceStatus />
          <ChatHeader
            chat={chat}
            models={props.models}
            defaultModel={props.preset?.model ?? props.defaultModel}
            totals={props.totals}
            presets={props.presets}
            preset={props.preset}
          />
          {chat ? <SettingsSummary chat={chat} /> : props.preset ? <PresetChosen preset={props.preset} /> : ""}
          {props.notice ? (
            <p
              role="status"
              class="mx-3 mt-3 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
              safe
            >
              {props.notice}
            </p>
          ) : (
            ""
          )}
          <div
            id="transcript"
            role="log"
            aria-live="polite"
            aria-label="Conversation"
            class="min-h-0 flex-1 overflow-y-auto px-3 py-4"
          >
            <div class="mx-auto flex max-w-3xl flex-col gap-5">
              {chat && props.hasOlder && since ? <OlderSentinel chatId={chat.id} before={since} /> : ""}
              {messages.length === 0 ? <EmptyState /> : ""}
              <TranscriptLive messages={messages} />
            </div>
          </div>
          <Composer chatId={chat?.id} streamingMessageId={streaming} maxLength={props.maxLength} />
        </main>
        <ShortcutsDialog />
      </div>
    </Layout>
  );
}

/** Messages from the page's first newest one on: what a (re)connecting socket re-renders. */
export function TranscriptLive({ messages, oob }: { messages: ShownMessage[]; oob?: boolean }): JSX.Element {
  return (
    <div id="transcript-live" hx-swap-oob={oob ? "true" : undefined} class="flex flex-col gap-5">
      {messages.map((m) => (
        <MessageArticle {...m} />
      ))}
    </div>
  );
}

/** Older messages load when this scrolls into view; it replaces itself with them. */
export function OlderSentinel({ chatId, before }: { chatId: string; before: string }): JSX.Element {
  return (
    <div
      hx-get={`/chats/${chatId}/messages?before=${before}`}
      hx-trigger="intersect once"
      hx-swap="outerHTML"
      class="py-2 text-center text-sm text-zinc-500"
    >
      Loading earlier messages…
    </div>
  );
}

/** A page of older messages, with the sentinel for the page before it. */
export function OlderMessages(props: { chatId: string; messages: ShownMessage[]; hasOlder: boolean }): JSX.Element {
  const first = props.messages[0]?.message.id;
  return (
    <>
      {props.hasOlder && first ? <OlderSentinel chatId={props.chatId} before={first} /> : ""}
      {props.messages.map((m) => (
        <MessageArticle message={m.message} siblings={m.siblings} safeHtml={m.safeHtml} attachments={m.attachments} />
      ))}
    </>
  );
}

function EmptyState(): JSX.Element {
  return (
    <div id="empty-state" class="flex flex-col items-center gap-2 py-16 text-center">
      <h1 class="text-2xl font-semibold">What shall we talk about?</h1>
      <p class="max-w-md text-zinc-600 dark:text-zinc-400">
        Write your first message below. Answers stream in as they are written, and keep going if you close the tab.
      </p>
    </div>
  );
}

export type Totals = { tokens: number; cost: number };

/** What the chat has used so far, over all its answers. */
export function ChatUsage({ totals, oob }: { totals?: Totals; oob?: boolean }): JSX.Element {
  const text = totals?.tokens ? `${totals.tokens.toLocaleString("en")} tokens · ${dollars(totals.cost)}` : "";
  return (
    <span id="chat-usage" hx-swap-oob={oob ? "true" : undefined} class="text-xs text-zinc-500" safe>
      {text}
    </span>
  );
}

function ChatHeader({
  chat,
  models,
  defaultModel,
  totals,
  presets,
  preset,
}: {
  chat?: Chat;
  models: ModelChoices;
  defaultModel: string;
  totals?: Totals;
  presets?: Preset[];
  preset?: Preset;
}): JSX.Element {
  const selected = chat?.model ?? defaultModel;
  return (
    <div class="flex flex-wrap items-center gap-2 border-b border-zinc-200 px-3 py-2 dark:border-zinc-800">
      {chat ? <ChatTitle chat={chat} /> : <h2 class="min-w-0 flex-1 truncate font-medium">New chat</h2>}
      {chat ? <ChatUsage totals={totals} /> : ""}
      <ModelPicker
        id="model"
        choices={models}
        selected={selected}
        labelClass="sr-only"
        boxClass="w-full rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        class="w-56 max-w-full sm:w-64"
        form={chat ? undefined : "composer"}
        postTo={chat ? `/chats/${chat.id}/model` : undefined}
      />
      {chat ? "" : <PresetMenu presets={presets ?? []} chosen={preset} />}
      {chat ? (
        <>
          <SettingsButton chatId={chat.id} />
          <details class="relative">
            <summary class="cursor-pointer list-none rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
              Rename
            </summary>
            <form
              hx-post={`/chats/${chat.id}/title`}
              hx-swap="none"
              class="absolute right-0 z-10 mt-1 flex gap-1 rounded-md border border-zinc-200 bg-white p-2 shadow-lg dark:border-zinc-700 dark:bg-zinc-900"
            >
              <label class="sr-only" for="title">
                Title
              </label>
              <input
                id="title"
                name="title"
                value={chat.title}
                maxlength="200"
                required
                class="w-56 rounded border border-zinc-300 px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-950"
              />
              <button type="submit" class="rounded bg-indigo-600 px-2 py-1 text-sm text-white">
                Save
              </button>
            </form>
          </details>
          <ShareButton chatId={chat.id} />
          <ExportMenu chatId={chat.id} />
          <button
            type="button"
            hx-delete={`/chats/${chat.id}`}
            hx-confirm="Delete this chat and all its messages? This cannot be undone."
            class="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
          >
            Delete
          </button>
        </>
      ) : (
        ""
      )}
    </div>
  );
}

export function ChatTitle({ chat, oob }: { chat: Chat; oob?: boolean }): JSX.Element {
  return (
    <h2
      id="chat-title"
      hx-swap-oob={oob ? "true" : undefined}
      class="min-w-0 flex-1 basis-full truncate font-medium sm:basis-0"
      safe
    >
      {chat.title || "New chat"}
    </h2>
  );
}
