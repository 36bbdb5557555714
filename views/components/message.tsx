import type { Message } from "../../src/db/schema.ts";

/** What streamed so far of an answer being written: finished blocks and the open tail (HTML). */
export type LiveText = { safeBlocks: string[]; safeTail: string };

export type MessageProps = {
  message: Message;
  /** Rendered Markdown of a finished answer (sanitized by the renderer). */
  safeHtml?: string;
  live?: LiveText;
  oob?: boolean;
};

const STATUS_NOTE: Partial<Record<Message["status"], string>> = {
  stopped: "Stopped",
  interrupted: "Interrupted: the server stopped while writing this answer.",
};

/** One message. The same component renders it in the page and in every WebSocket push. */
export function MessageArticle({ message, safeHtml, live, oob }: MessageProps): JSX.Element {
  const id = `msg-${message.id}`;
  const user = message.role === "user";
  // Already-sanitized HTML from the Markdown renderer; named safe* so the XSS scanner knows.
  const safeBlocksHtml = (live?.safeBlocks ?? []).join("");
  const safeBody = safeHtml ?? "";
  return (
    <article
      id={id}
      hx-swap-oob={oob ? "true" : undefined}
      data-role={message.role}
      data-status={message.status}
      class={user ? "ml-auto max-w-[85%] sm:max-w-[75%]" : "w-full"}
    >
      {user ? (
        <div class="rounded-2xl bg-indigo-600 px-4 py-2 whitespace-pre-wrap break-words text-white" safe>
          {message.content}
        </div>
      ) : (
        <div class="markdown min-w-0 break-words">
          {message.status === "streaming" ? (
            <>
              <div id={`${id}-blocks`}>{safeBlocksHtml}</div>
              <div id={`${id}-tail`}>{live?.safeTail ? live.safeTail : <Waiting />}</div>
            </>
          ) : (
            safeBody
          )}
        </div>
      )}
      <MessageFooter message={message} />
    </article>
  );
}

function Waiting(): JSX.Element {
  return (
    <p class="flex items-center gap-1 py-2 text-zinc-500" role="status" aria-label="Waiting for the answer">
      <span class="size-2 animate-bounce rounded-full bg-current [animation-delay:-0.3s]" />
      <span class="size-2 animate-bounce rounded-full bg-current [animation-delay:-0.15s]" />
      <span class="size-2 animate-bounce rounded-full bg-current" />
    </p>
  );
}

function MessageFooter({ message }: { message: Message }): JSX.Element {
  const user = message.role === "user";
  const note = STATUS_NOTE[message.status];
  const retryable = !user && ["error", "stopped", "interrupted"].includes(message.status);
  // Only the newest answer offers Regenerate; app.css shows it on the transcript's last article.
  const regenerable = !user && message.status === "complete";
  return (
    <footer
      class={`mt-1 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-zinc-500 ${user ? "justify-end" : ""}`}
    >
      <time datetime={message.createdAt.toISOString()} safe>
        {message.createdAt.toISOString().slice(0, 16).replace("T", " ")}
      </time>
      {!user && message.model ? <span safe>{message.model}</span> : ""}
      {message.completionTokens != null ? (
        <span>
          {message.promptTokens ?? 0} + {message.completionTokens} tokens
        </span>
      ) : (
        ""
      )}
      {message.cost != null ? <span safe>{`$${message.cost.toFixed(5)}`}</span> : ""}
      {note ? (
        <span class="font-medium text-amber-700 dark:text-amber-400" safe>
          {note}
        </span>
      ) : (
        ""
      )}
      {message.status === "error" ? (
        <span
          role="alert"
          class="basis-full rounded-md bg-red-50 px-2 py-1 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
          safe
        >
          {message.error ?? "The answer failed."}
        </span>
      ) : (
        ""
      )}
      {retryable || regenerable ? (
        <form ws-send class={retryable ? "inline" : "regenerate hidden"}>
          <input type="hidden" name="action" value="retry" />
          <input type="hidden" name="message" value={message.id} />
          <button
            type="submit"
            class="rounded border border-zinc-300 px-2 py-0.5 font-medium text-zinc-700 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            {retryable ? "Retry" : "Regenerate"}
          </button>
        </form>
      ) : (
        ""
      )}
    </footer>
  );
}

/** One streaming frame: append the blocks that finished, replace the open tail. */
export function FrameFragment({
  messageId,
  safeBlocks,
  safeTail,
}: {
  messageId: string;
  safeBlocks: string[];
  safeTail: string;
}): JSX.Element {
  return (
    <>
      {safeBlocks.length ? (
        <div id={`msg-${messageId}-blocks`} hx-swap-oob="beforeend">
          {safeBlocks.join("")}
        </div>
      ) : (
        ""
      )}
      <div id={`msg-${messageId}-tail`} hx-swap-oob="true">
        {safeTail}
      </div>
    </>
  );
}
