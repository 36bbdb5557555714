import type { Allowance } from "../../src/teams/limits-words.ts";
import { ShortcutsButton } from "./shortcuts.tsx";
import { SpendingNotice } from "./spending.tsx";

export type ComposerControlsProps = { chatId: string; streamingMessageId?: string; oob?: boolean };

// 44 px high: the main control of the page, under a thumb on a phone.
const button = "min-h-11 rounded-xl px-4 py-2 text-sm font-semibold shadow-sm disabled:opacity-50";

/** Send, or Stop while an answer is being written; every tab on the chat shows the same. */
export function ComposerControls({ chatId, streamingMessageId, oob }: ComposerControlsProps): JSX.Element {
  return (
    <div
      id="composer-controls"
      hx-swap-oob={oob ? "true" : undefined}
      data-chat={chatId}
      class="flex shrink-0 items-end"
    >
      {streamingMessageId ? (
        <form ws-send>
          <input type="hidden" name="action" value="stop" />
          <input type="hidden" name="message" value={streamingMessageId} />
          <button
            type="submit"
            class={`${button} bg-zinc-800 text-white hover:bg-zinc-700 dark:bg-zinc-200 dark:text-zinc-900`}
          >
            Stop
          </button>
        </form>
      ) : (
        <button type="submit" form="composer" class={`${button} bg-indigo-600 text-white hover:bg-indigo-500`}>
          Send
        </button>
      )}
    </div>
  );
}

export type ComposerStatusProps = {
  text?: string;
  kind?: "info" | "error";
  oob?: boolean;
  /** Said only while an answer is being written: the tab clears it once the composer offers Send again (app.js). */
  whileWriting?: boolean;
};

/** Why the composer cannot send right now, or what went wrong with the last send. */
export function ComposerStatus({ text, kind = "info", oob, whileWriting }: ComposerStatusProps): JSX.Element {
  return (
    <p
      id="composer-status"
      hx-swap-oob={oob ? "true" : undefined}
      role={kind === "error" ? "alert" : "status"}
      data-kind={kind}
      data-while-writing={whileWriting ? "" : undefined}
      class={`min-h-5 px-1 text-sm ${kind === "error" ? "text-red-700 dark:text-red-400" : "text-zinc-500 dark:text-zinc-400"}`}
      safe
    >
      {text ?? ""}
    </p>
  );
}

export type ComposerProps = {
  /** Sends over the socket to this chat; without one, the form starts a new chat by POST. */
  chatId?: string;
  streamingMessageId?: string;
  maxLength: number;
  status?: string;
  /** The person's spending limits that apply, for the notice when little is left. */
  spending?: Allowance[];
  /** What was typed, when a first message was refused and the new-chat page came back. */
  draft?: string;
  /** The chat's Search the web switch, as its last message left it. */
  webSearch?: boolean;
};

/**
 * What the file picker offers: the kinds Parley takes (the server decides by the bytes, whatever
 * the picker let through). Text files are listed by their usual extensions, as browsers give most
 * code files no text/* type.
 */
export const ACCEPT = [
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
  "application/pdf",
  "text/*",
  ...[
    "txt md markdown csv tsv json jsonl yaml yml toml xml ini conf cfg log html htm css scss",
    "js mjs cjs jsx ts tsx py rb go rs java kt kts scala c h cc cpp hpp cs php pl lua r",
    "swift sh bash zsh fish ps1 sql graphql proto tex rst org diff patch",
  ]
    .join(" ")
    .split(" ")
    .map((ext) => `.${ext}`),
].join(",");

/**
 * The "Attach files" button: a label around the real file input, which stays focusable (only
 * hidden from sight), so keyboards and screen readers reach it as the file picker it is.
 */
function AttachButton(): JSX.Element {
  return (
    <label
      title="Attach files"
      class="flex size-11 shrink-0 cursor-pointer items-center justify-center rounded-xl border border-zinc-300 bg-white text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 has-focus-visible:border-indigo-500 has-focus-visible:ring-2 has-focus-visible:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800 dark:hover:text-white"
    >
      <input type="file" multiple accept={ACCEPT} data-attach class="sr-only" />
      <span class="sr-only">Attach files</span>
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
        stroke-linejoin="round"
        class="size-5"
      >
        <path d="m21.44 11.05-9.19 9.19a6 6 0 0 1-8.49-8.49l8.57-8.57A4 4 0 1 1 18 8.84l-8.59 8.57a2 2 0 0 1-2.83-2.83l8.49-8.48" />
      </svg>
    </label>
  );
}

/**
 * "Search the web" for this message, and the next ones in the chat: a checkbox, so keyboards and
 * screen readers know it as a switch, with a hidden "off" before it so the form says either way.
 */
function WebSearchSwitch({ on }: { on: boolean }): JSX.Element {
  return (
    <label
      title="Search the web"
      class="flex h-11 shrink-0 cursor-pointer items-center gap-1.5 rounded-xl border border-zinc-300 bg-white px-3 text-sm font-medium text-zinc-600 hover:bg-zinc-100 hover:text-zinc-900 has-checked:border-indigo-500 has-checked:bg-indigo-50 has-checked:text-indigo-800 has-focus-visible:ring-2 has-focus-visible:ring-indigo-500/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-300 dark:hover:bg-zinc-800 dark:hover:text-white dark:has-checked:border-indigo-400 dark:has-checked:bg-indigo-950 dark:has-checked:text-indigo-100"
    >
      <input type="hidden" name="webSearch" value="off" />
      <input type="checkbox" name="webSearch" value="on" checked={on} class="sr-only" />
      <svg
        aria-hidden="true"
        viewBox="0 0 24 24"
        fill="none"
        stroke="currentColor"
        stroke-width="2"
        stroke-linecap="round"
        stroke-linejoin="round"
        class="size-5"
      >
        <circle cx="12" cy="12" r="10" />
        <path d="M2 12h20M12 2a15.3 15.3 0 0 1 0 20M12 2a15.3 15.3 0 0 0 0 20" />
      </svg>
      <span class="sr-only sm:not-sr-only">Search the web</span>
    </label>
  );
}

/**
 * The files attached to the message being written, above the text. app.js fills the list from the
 * template (text only, never markup): a chip per file while it uploads, then with the hidden
 * `attachment` input that carries its id when the form is sent.
 */
function Attachments(): JSX.Element {
  return (
    <>
      <ul
        id="attachments"
        // biome-ignore lint/a11y/noRedundantRoles: Safari drops a list's role once its bullets are styled away
        role="list"
        aria-live="polite"
        aria-label="Attached files"
        class="col-span-2 mb-2 flex items-start gap-2 overflow-x-auto pb-1 [scrollbar-width:thin] empty:mb-0 empty:pb-0 sm:flex-wrap sm:overflow-visible sm:pb-0"
      ></ul>
      <template id="attachment-chip">
        {/* On a phone the chips scroll sideways in one row; on wider screens they wrap. */}
        <li
          data-state="uploading"
          class="grid w-52 max-w-full shrink-0 grid-cols-[auto_minmax(0,1fr)_auto] items-center gap-x-2 rounded-xl border border-zinc-300 bg-zinc-50 p-1.5 text-sm data-[state=error]:w-[calc(100%-1.5rem)] data-[state=error]:border-red-300 data-[state=error]:bg-red-50 sm:w-60 sm:data-[state=error]:w-full dark:border-zinc-700 dark:bg-zinc-900 dark:data-[state=error]:border-red-800 dark:data-[state=error]:bg-red-950/40"
        >
          <img data-thumb alt="" hidden class="size-10 rounded-lg bg-zinc-200 object-cover dark:bg-zinc-800" />
          <span
            data-badge
            aria-hidden="true"
            class="flex size-10 items-center justify-center rounded-lg bg-zinc-200 text-[0.625rem] font-semibold tracking-wide text-zinc-600 uppercase dark:bg-zinc-800 dark:text-zinc-300"
          ></span>
          <span class="min-w-0">
            <span data-name class="block truncate font-medium text-zinc-900 dark:text-zinc-100"></span>
            <span data-size class="block text-xs text-zinc-500 dark:text-zinc-400"></span>
            <button
              type="button"
              data-original
              hidden
              class="block rounded text-xs font-medium text-indigo-700 hover:underline focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:outline-none dark:text-indigo-300"
            ></button>
            <progress
              data-progress
              max="1"
              value="0"
              class="mt-1 block h-1.5 w-full appearance-none overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-700 [&::-moz-progress-bar]:bg-indigo-600 [&::-webkit-progress-bar]:bg-zinc-200 dark:[&::-webkit-progress-bar]:bg-zinc-700 [&::-webkit-progress-value]:bg-indigo-600 dark:[&::-webkit-progress-value]:bg-indigo-400"
            ></progress>
          </span>
          <button
            type="button"
            data-remove
            class="flex size-8 items-center justify-center self-start rounded-lg text-lg leading-none text-zinc-500 hover:bg-zinc-200 hover:text-zinc-900 focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:outline-none dark:text-zinc-400 dark:hover:bg-zinc-800 dark:hover:text-white"
          >
            <span aria-hidden="true">×</span>
          </button>
          <span data-error hidden class="col-span-3 mt-1.5 px-0.5 text-xs text-red-700 dark:text-red-400"></span>
        </li>
      </template>
    </>
  );
}

export function Composer({
  chatId,
  streamingMessageId,
  maxLength,
  status,
  spending,
  draft,
  webSearch = false,
}: ComposerProps): JSX.Element {
  const fields = (
    <>
      <Attachments />
      <div class="flex min-w-0 items-end gap-2">
        <WebSearchSwitch on={webSearch} />
        <AttachButton />
        <label for="message" class="sr-only">
          Message
        </label>
        <textarea
          id="message"
          name="content"
          rows="1"
          required
          maxlength={String(maxLength)}
          placeholder="Ask anything…"
          class="max-h-60 min-h-11 w-full min-w-0 resize-none rounded-xl border border-zinc-300 bg-white px-3 py-2.5 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900"
          safe
        >
          {draft ?? ""}
        </textarea>
      </div>
    </>
  );
  return (
    // Files dropped anywhere on the composer are attached (app.js); data-dragging shows where.
    <div
      data-drop-files
      class="group relative border-t border-zinc-200 bg-white/90 px-3 pt-3 pb-2 dark:border-zinc-800 dark:bg-zinc-950/90"
    >
      <SpendingNotice allowances={spending ?? []} />
      {/* The form's box is dissolved (display: contents) so that its chips span the whole width,
          above Send too, while its message box and Send share the row below. */}
      <div class="mx-auto grid max-w-3xl grid-cols-[minmax(0,1fr)_auto] items-end gap-x-2">
        {chatId ? (
          <form id="composer" ws-send class="contents" data-composer>
            <input type="hidden" name="action" value="send" />
            <input type="hidden" name="chat" value={chatId} />
            {fields}
          </form>
        ) : (
          <form id="composer" method="post" action="/chats" class="contents" data-composer>
            {fields}
          </form>
        )}
        {chatId ? (
          <ComposerControls chatId={chatId} streamingMessageId={streamingMessageId} />
        ) : (
          <div id="composer-controls" class="flex shrink-0 items-end">
            <button type="submit" form="composer" class={`${button} bg-indigo-600 text-white hover:bg-indigo-500`}>
              Send
            </button>
          </div>
        )}
      </div>
      <div class="mx-auto flex max-w-3xl items-start justify-between gap-2">
        <ComposerStatus text={status} />
        <ShortcutsButton />
      </div>
      <div
        aria-hidden="true"
        class="pointer-events-none absolute inset-1 hidden items-center justify-center rounded-xl border-2 border-dashed border-indigo-500 bg-indigo-50/90 text-sm font-semibold text-indigo-700 group-data-dragging:flex dark:bg-indigo-950/90 dark:text-indigo-200"
      >
        Drop files to attach them
      </div>
    </div>
  );
}

/**
 * A message sent while the connection is down waits here, at the end of the conversation, until
 * the socket is back (app.js fills it with text only, sends it once, and says when it went).
 * Cancel puts it back in the message box.
 */
export function QueuedMessage(): JSX.Element {
  return (
    <div id="queued" hidden class="ml-auto max-w-[85%] sm:max-w-[75%]">
      <div
        data-queued-text
        class="rounded-2xl border border-dashed border-indigo-400 bg-indigo-50 px-4 py-2 whitespace-pre-wrap break-words text-indigo-950 dark:border-indigo-500 dark:bg-indigo-950 dark:text-indigo-50"
      ></div>
      <p class="mt-1 flex flex-wrap items-center justify-end gap-x-2 text-xs text-zinc-600 dark:text-zinc-300">
        <span data-queued-state role="status">
          Queued — will send when reconnected
        </span>
        <button
          type="button"
          data-queued-cancel
          class="min-h-6 rounded px-2 py-0.5 font-medium text-zinc-700 underline-offset-2 hover:bg-zinc-100 hover:underline dark:text-zinc-200 dark:hover:bg-zinc-800"
        >
          Cancel
        </button>
      </p>
    </div>
  );
}
