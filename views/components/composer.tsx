import { ShortcutsButton } from "./shortcuts.tsx";

export type ComposerControlsProps = { chatId: string; streamingMessageId?: string; oob?: boolean };

const button = "rounded-xl px-4 py-2 text-sm font-semibold shadow-sm disabled:opacity-50";

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

export type ComposerStatusProps = { text?: string; kind?: "info" | "error"; oob?: boolean };

/** Why the composer cannot send right now, or what went wrong with the last send. */
export function ComposerStatus({ text, kind = "info", oob }: ComposerStatusProps): JSX.Element {
  return (
    <p
      id="composer-status"
      hx-swap-oob={oob ? "true" : undefined}
      role={kind === "error" ? "alert" : "status"}
      data-kind={kind}
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
};

export function Composer({ chatId, streamingMessageId, maxLength, status }: ComposerProps): JSX.Element {
  const textarea = (
    <>
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
        autofocus
        class="max-h-60 min-h-11 w-full resize-none rounded-xl border border-zinc-300 bg-white px-3 py-2.5 focus:border-indigo-500 focus:ring-2 focus:ring-indigo-500/30 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900"
      ></textarea>
    </>
  );
  return (
    <div class="border-t border-zinc-200 bg-white/90 px-3 pt-3 pb-2 dark:border-zinc-800 dark:bg-zinc-950/90">
      <div class="mx-auto flex max-w-3xl items-end gap-2">
        {chatId ? (
          <form id="composer" ws-send class="min-w-0 flex-1" data-composer>
            <input type="hidden" name="action" value="send" />
            <input type="hidden" name="chat" value={chatId} />
            {textarea}
          </form>
        ) : (
          <form id="composer" method="post" action="/chats" class="min-w-0 flex-1" data-composer>
            {textarea}
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
    </div>
  );
}
