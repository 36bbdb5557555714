import { versionOf } from "../../src/chat/page-state.ts";
import type { ShownMessage } from "../../src/chat/types.ts";
import type { Chat, Preset, Project, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { dollars } from "../../src/limits.ts";
import type { ModelChoices } from "../../src/picker/types.ts";
import type { ProjectGroup } from "../../src/projects/types.ts";
import type { Allowance } from "../../src/teams/limits-words.ts";
import { SettingsButton, SettingsSummary } from "../components/chat-settings.tsx";
import { Composer, QueuedMessage } from "../components/composer.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { MessageArticle } from "../components/message.tsx";
import { ModelPicker } from "../components/model-picker.tsx";
import { ArchivedNotice, OrganiseButtons } from "../components/organise.tsx";
import { PresetChosen, PresetMenu } from "../components/presets.tsx";
import { ChatProject, MoveDialog, MoveToButton, ProjectChosen } from "../components/projects.tsx";
import { ServiceStatus } from "../components/service-status.tsx";
import { ShareButton } from "../components/share.tsx";
import { ShortcutsDialog } from "../components/shortcuts.tsx";
import { type OpenGroup, Sidebar } from "../components/sidebar.tsx";
import { TemporaryNotice, TemporaryToggle } from "../components/temporary.tsx";
import { ExportMenu } from "../components/transfer.tsx";
import { Layout } from "../layout.tsx";

export type ChatPageProps = {
  assets: AssetUrls;
  user: User;
  pinned: Chat[];
  chats: Chat[];
  generating: Set<string>;
  /** The chat the sidebar's next page follows, if the list goes on. */
  more?: string;
  models: ModelChoices;
  defaultModel: string;
  maxLength: number;
  notice?: string;
  /** Absent on the new-chat page. */
  chat?: Chat;
  /** The sidebar's projects (see ProjectGroups). */
  groups: ProjectGroup[];
  /** The open chat's project group, with its chats. */
  openGroup?: OpenGroup;
  /** The open chat's project; on the new-chat page, the project the chat starts in. */
  project?: Project & { files?: number };
  /** The new-chat page's: the person's presets, and the one the chat starts from. */
  presets?: Preset[];
  preset?: Preset;
  messages: ShownMessage[];
  hasOlder: boolean;
  totals?: Totals;
  /** The person's spending limits that apply (the composer says when little is left). */
  spending?: Allowance[];
  /** The new-chat page's message as typed, when sending it was refused. */
  draft?: string;
  /** TEMPORARY_CHAT_HOURS, which a temporary chat's notice states. */
  temporaryHours: number;
  /** The new-chat page's "Temporary chat" switch is on (a first message was refused). */
  temporary?: boolean;
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
        <Sidebar
          pinned={props.pinned}
          chats={props.chats}
          generating={props.generating}
          more={props.more}
          currentId={chat?.id}
          user={props.user}
          groups={props.groups}
          openGroup={props.openGroup}
        />
        {/* Behind the chat list while it is open over the page on a phone; a tap on it closes the list. */}
        <div data-drawer-backdrop hidden class="fixed inset-0 z-30 bg-zinc-950/40 md:hidden"></div>
        <main hx-ext="ws" ws-connect={wsUrl} class="group/main flex min-h-0 min-w-0 flex-1 flex-col">
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
            defaultModel={props.preset?.model ?? props.project?.model ?? props.defaultModel}
            totals={props.totals}
            presets={props.presets}
            preset={props.preset}
            temporary={props.temporary}
          />
          {chat ? (
            <ChatProject project={props.project} />
          ) : props.project ? (
            <ProjectChosen project={props.project} />
          ) : (
            ""
          )}
          {chat ? <SettingsSummary chat={chat} /> : props.preset ? <PresetChosen preset={props.preset} /> : ""}
          {chat?.temporary || !chat ? <TemporaryNotice hours={props.temporaryHours} pending={!chat} /> : ""}
          {chat?.archivedAt ? <ArchivedNotice chat={chat} /> : ""}
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
              {chat ? <QueuedMessage /> : ""}
            </div>
          </div>
          {/* Shown by app.js while the reader is scrolled up from the newest message. */}
          <div class="relative h-0">
            <button
              type="button"
              id="jump-latest"
              hidden
              class="absolute bottom-3 left-1/2 z-10 -translate-x-1/2 rounded-full border border-zinc-300 bg-white px-4 py-2 text-sm font-medium text-zinc-800 shadow-md hover:bg-zinc-100 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800"
            >
              ↓ Jump to latest
            </button>
          </div>
          <Composer
            chatId={chat?.id}
            streamingMessageId={streaming}
            maxLength={props.maxLength}
            spending={props.spending}
            draft={props.draft}
            webSearch={chat?.webSearch ?? false}
          />
        </main>
        <ShortcutsDialog />
        <MoveDialog />
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
      class="py-2 text-center text-sm text-zinc-500 dark:text-zinc-400"
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
      <h2 class="text-2xl font-semibold">What shall we talk about?</h2>
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
    <span
      id="chat-usage"
      hx-swap-oob={oob ? "true" : undefined}
      data-version={versionOf(text)}
      // Between lg and 2xl the header's row has no room for it beside the title (the ⋯ menu holds it below lg).
      class="text-xs text-zinc-500 lg:max-2xl:hidden dark:text-zinc-400"
      safe
    >
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
  temporary,
}: {
  chat?: Chat;
  models: ModelChoices;
  defaultModel: string;
  totals?: Totals;
  presets?: Preset[];
  preset?: Preset;
  temporary?: boolean;
}): JSX.Element {
  const selected = chat?.model ?? defaultModel;
  return (
    <div class="flex items-center gap-1 border-b border-zinc-200 px-1 py-1 md:px-3 md:py-2 lg:gap-2 dark:border-zinc-800">
      <DrawerToggle />
      {chat ? <ChatTitle chat={chat} /> : <h1 class={TITLE}>New chat</h1>}
      {chat ? "" : <TemporaryToggle checked={temporary} />}
      {/* Below lg the actions are a menu under the ⋯ button (a native popover: Esc and a tap
          outside close it, and focus goes back to the button); wider, the model, Settings and
          Share sit in the row and the rest in the More menu (#chat-more), as at peers. */}
      <button
        type="button"
        popovertarget="chat-actions"
        aria-expanded="false"
        aria-label="Chat actions"
        class={`${SQUARE} text-xl font-semibold lg:hidden`}
      >
        <span aria-hidden="true">⋯</span>
      </button>
      <div
        id="chat-actions"
        popover
        class="w-64 flex-col items-stretch gap-1 rounded-xl border border-zinc-200 bg-white p-2 text-zinc-900 shadow-xl open:flex lg:static lg:m-0 lg:flex lg:w-auto lg:flex-row lg:items-center lg:gap-2 lg:overflow-visible lg:border-0 lg:bg-transparent lg:p-0 lg:text-inherit lg:shadow-none dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 lg:dark:bg-transparent lg:dark:text-inherit"
      >
        {chat ? <ChatUsage totals={totals} /> : ""}
        <ModelPicker
          id="model"
          choices={models}
          selected={selected}
          labelClass="sr-only"
          boxClass="w-full rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
          class="w-full lg:w-48 2xl:w-64"
          form={chat ? undefined : "composer"}
          postTo={chat ? `/chats/${chat.id}/model` : undefined}
        />
        {chat ? "" : <PresetMenu presets={presets ?? []} chosen={preset} />}
        {chat ? (
          <>
            <SettingsButton chatId={chat.id} />
            {/* A temporary chat is never shared nor exported (the routes refuse it too). */}
            {chat.temporary ? "" : <ShareButton chatId={chat.id} />}
            <button
              type="button"
              popovertarget="chat-more"
              aria-expanded="false"
              aria-label="More actions"
              class="hidden size-8 items-center justify-center rounded-md text-lg font-semibold hover:bg-zinc-100 lg:flex dark:hover:bg-zinc-800"
            >
              <span aria-hidden="true">⋯</span>
            </button>
            <ChatMoreMenu chat={chat} />
          </>
        ) : (
          ""
        )}
      </div>
    </div>
  );
}

/**
 * What a chat's header does less often: from lg a menu under the header's More button (a native
 * popover); narrower, part of the ⋯ menu it is in, shown in place (app.css).
 */
function ChatMoreMenu({ chat }: { chat: Chat }): JSX.Element {
  return (
    <div
      id="chat-more"
      popover
      class="m-0 w-56 flex-col items-stretch gap-1 rounded-xl border border-zinc-200 bg-white p-2 text-zinc-900 shadow-xl open:flex max-lg:static max-lg:flex max-lg:w-full max-lg:border-0 max-lg:bg-transparent max-lg:p-0 max-lg:shadow-none dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 max-lg:dark:bg-transparent"
    >
      {chat.temporary ? "" : <MoveToButton chatId={chat.id} />}
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
      {chat.temporary ? "" : <OrganiseButtons chat={chat} />}
      {chat.temporary ? "" : <ExportMenu chatId={chat.id} />}
      <ConfirmButton
        id="confirm-delete-chat"
        button="Delete"
        buttonClass="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
        question="Delete this chat?"
        detail="All its messages and files go with it. This cannot be undone."
        confirm="Delete chat"
        hxDelete={`/chats/${chat.id}`}
      />
    </div>
  );
}

/** Header buttons a thumb must hit: 44 px square (WCAG 2.2's enhanced target size). */
const SQUARE = "flex size-11 shrink-0 items-center justify-center rounded-md hover:bg-zinc-100 dark:hover:bg-zinc-800";
/** The chat's title is the page's one h1. */
const TITLE = "min-w-0 flex-1 truncate px-2 font-medium md:px-0";

/** On a phone, opens the chat list as a drawer over the page (app.js); wider, the list is always there. */
function DrawerToggle(): JSX.Element {
  return (
    <button
      type="button"
      data-toggle="sidebar"
      aria-controls="sidebar"
      aria-expanded="false"
      aria-label="Chats"
      class={`${SQUARE} md:hidden`}
    >
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
        class="size-6"
      >
        <path d="M4 6h16M4 12h16M4 18h16" />
      </svg>
    </button>
  );
}

export function ChatTitle({ chat, oob }: { chat: Chat; oob?: boolean }): JSX.Element {
  return (
    <h1 id="chat-title" hx-swap-oob={oob ? "true" : undefined} data-version={versionOf(chat.title)} class={TITLE} safe>
      {chat.title || "New chat"}
    </h1>
  );
}
