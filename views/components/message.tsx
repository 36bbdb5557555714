import type { LiveText, Siblings } from "../../src/chat/types.ts";
import type { Message } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import { dollars } from "../../src/limits.ts";
import type { Frame } from "../../src/llm/live-answer.ts";
import { AnswerImages, MessageAttachments } from "./attachments.tsx";
import { EditMessage, TARGET } from "./message-edit.tsx";
import { Sources } from "./sources.tsx";
import { ToolSteps } from "./tool-steps.tsx";

export type MessageProps = {
  message: Message;
  /** Its place among the messages written in its stead (edits, new answers), if there are any. */
  siblings?: Siblings;
  /** Rendered Markdown of a finished answer (sanitized by the renderer). */
  safeHtml?: string;
  live?: LiveText;
  /** The files sent with it; an answer's images. */
  attachments?: FileInfo[];
  oob?: boolean;
};

const STATUS_NOTE: Partial<Record<Message["status"], string>> = {
  stopped: "Stopped",
  interrupted: "Interrupted: the server stopped while writing this answer.",
};

const FINISH_NOTE: Record<string, string> = {
  length: "Cut off: the answer reached the model's length limit.",
  content_filter: "Stopped by the provider's content filter.",
};

/** One message. The same component renders it in the page and in every WebSocket push. */
export function MessageArticle({ message, siblings, safeHtml, live, attachments, oob }: MessageProps): JSX.Element {
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
      {user && attachments?.length ? <MessageAttachments files={attachments} /> : ""}
      {user ? (
        <div
          data-body
          class="rounded-2xl bg-indigo-600 px-4 py-2 whitespace-pre-wrap break-words text-white empty:hidden"
          safe
        >
          {message.content}
        </div>
      ) : (
        <>
          <Thinking id={id} message={message} live={live} />
          <ToolSteps messageId={message.id} steps={message.toolSteps} streaming={message.status === "streaming"} />
        </>
      )}
      {user ? (
        ""
      ) : (
        <div data-body class="markdown min-w-0 break-words">
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
      {!user && (message.status === "streaming" || attachments?.length) ? (
        <AnswerImages messageId={message.id} files={attachments ?? []} />
      ) : (
        ""
      )}
      {user || message.status === "streaming" ? "" : <Sources messageId={message.id} sources={message.sources} />}
      <MessageFooter message={message} siblings={siblings} />
    </article>
  );
}

/** "Thought for 12 s"; "Thought" for an answer saved before thinking times were kept. */
const thoughtFor = (ms: number | null | undefined) =>
  ms == null ? "Thought" : `Thought for ${Math.max(1, Math.round(ms / 1000))} s`;

/**
 * The model's reasoning: open while it streams, under "Thinking… 3 s" (app.js counts the seconds
 * on from data-thinking-ms), then collapsed under "Thought for N s" once the answer begins. Hidden
 * while there is none (CSS: a details whose pre is empty).
 */
function Thinking({ id, message, live }: { id: string; message: Message; live?: LiveText }): JSX.Element {
  const thinking = message.status === "streaming" && live !== undefined && !live.thought;
  const text = message.status === "streaming" ? (live?.reasoning ?? "") : (message.reasoning ?? "");
  return (
    <details
      data-thinking
      data-live={thinking ? "" : undefined}
      open={thinking}
      class="mb-2 rounded-md border border-zinc-200 px-3 py-1 text-sm has-[pre:empty]:hidden dark:border-zinc-800"
    >
      {thinking ? (
        <ThinkingSummary id={id} thinkingMs={live.thinkingMs} />
      ) : (
        <ThoughtSummary id={id} ms={message.status === "streaming" ? live?.thinkingMs : message.thinkingMs} />
      )}
      <pre
        id={`${id}-thinking`}
        class="my-2 max-h-80 overflow-y-auto font-sans whitespace-pre-wrap text-zinc-600 dark:text-zinc-400"
        safe
      >
        {text}
      </pre>
    </details>
  );
}

const SUMMARY = "cursor-pointer text-zinc-600 select-none dark:text-zinc-400";

function ThinkingSummary({ id, thinkingMs }: { id: string; thinkingMs: number }): JSX.Element {
  return (
    <summary id={`${id}-thinking-summary`} class={SUMMARY}>
      Thinking…{" "}
      <span data-thinking-ms={String(thinkingMs)} class="tabular-nums" safe>
        {`${Math.floor(thinkingMs / 1000)} s`}
      </span>
    </summary>
  );
}

function ThoughtSummary({ id, ms, oob }: { id: string; ms: number | null | undefined; oob?: boolean }): JSX.Element {
  return (
    <summary id={`${id}-thinking-summary`} data-thought hx-swap-oob={oob ? "true" : undefined} class={SUMMARY} safe>
      {thoughtFor(ms)}
    </summary>
  );
}

/** Where the answer will appear, while a failed request waits to be tried again. */
export function RetryingNotice(event: {
  attempt: number;
  attempts: number;
  delayMs: number;
  reason: string;
}): JSX.Element {
  const seconds = Math.max(1, Math.round(event.delayMs / 1000));
  return (
    <p role="status" class="py-2 text-sm text-amber-700 dark:text-amber-400" safe>
      {`${event.reason}; retrying in ${seconds} s (attempt ${event.attempt} of ${event.attempts})…`}
    </p>
  );
}

function Waiting(): JSX.Element {
  return (
    <p
      data-waiting
      class="flex items-center gap-1 py-2 text-zinc-500 dark:text-zinc-400"
      role="status"
      aria-label="Waiting for the answer"
    >
      {/* Still for people whose system asks for less motion: three dots say "waiting" as well. */}
      <span class="size-2 rounded-full bg-current motion-safe:animate-bounce [animation-delay:-0.3s]" />
      <span class="size-2 rounded-full bg-current motion-safe:animate-bounce [animation-delay:-0.15s]" />
      <span class="size-2 rounded-full bg-current motion-safe:animate-bounce" />
    </p>
  );
}

/**
 * Whether a message offers Copy. Not while an answer streams: its source is not on the page then
 * (frames carry only rendered HTML, and adding the source would double every frame), and half an
 * answer is rarely what anyone wants; the finished answer's render brings the button.
 */
const copyable = (m: Message) => m.status !== "streaming" && m.content !== "";

/** ‹ 2 / 3 ›: shows the branch through the previous or next of a message's siblings, in every tab. */
function SiblingSwitch({ siblings }: { siblings: Siblings }): JSX.Element {
  const step = (to: string | undefined, label: string, arrow: string) =>
    to ? (
      <form ws-send class="inline">
        <input type="hidden" name="action" value="switch" />
        <input type="hidden" name="message" value={to} />
        <button
          type="submit"
          aria-label={label}
          class={`${TARGET} font-medium hover:bg-zinc-100 hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200`}
          safe
        >
          {arrow}
        </button>
      </form>
    ) : (
      <span class={`${TARGET} opacity-40`} aria-hidden="true" safe>
        {arrow}
      </span>
    );
  return (
    <span data-siblings={String(siblings.count)} class="inline-flex items-center tabular-nums">
      {step(siblings.previous, "Previous version", "‹")}
      <span safe>{`${siblings.index} / ${siblings.count}`}</span>
      {step(siblings.next, "Next version", "›")}
    </span>
  );
}

function MessageFooter({ message, siblings }: { message: Message; siblings?: Siblings }): JSX.Element {
  const user = message.role === "user";
  const note = STATUS_NOTE[message.status] ?? (message.finishReason ? FINISH_NOTE[message.finishReason] : undefined);
  const retryable = !user && ["error", "stopped", "interrupted"].includes(message.status);
  // Only the newest answer offers Regenerate; app.css shows it on the transcript's last article.
  const regenerable = !user && message.status === "complete";
  return (
    <footer
      class={`mt-1 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-zinc-500 dark:text-zinc-400 ${user ? "justify-end" : ""}`}
    >
      {siblings ? <SiblingSwitch siblings={siblings} /> : ""}
      {/* The reader's local time, shown on hover or focus where there is hover (app.js, app.css);
          its day is in the separator above (app.js). */}
      <time data-msg-time datetime={message.createdAt.toISOString()} safe>
        {message.createdAt.toISOString().slice(0, 16).replace("T", " ")}
      </time>
      {copyable(message) ? (
        <button
          type="button"
          data-copy
          aria-live="polite"
          class={`${TARGET} font-medium hover:bg-zinc-100 hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200`}
        >
          Copy
        </button>
      ) : (
        ""
      )}
      {/* What an answer's Copy copies: its Markdown source, as escaped, inert text. A person's
          message's source is its body's text already. */}
      {!user && copyable(message) ? (
        <template data-source safe>
          {message.content}
        </template>
      ) : (
        ""
      )}
      {user ? <EditMessage message={message} /> : ""}
      {!user && message.model ? <span safe>{message.model}</span> : ""}
      {message.completionTokens != null ? <span safe>{tokenSummary(message)}</span> : ""}
      {message.cost != null ? <span safe>{dollars(message.cost)}</span> : ""}
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
            class="inline-flex min-h-6 items-center rounded border border-zinc-300 px-2 font-medium text-zinc-700 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"
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

function tokenSummary(m: Message): string {
  // A stopped answer's count is Parley's own (the upstream reports usage only at a full end).
  if (m.promptTokens === null) return `about ${m.completionTokens} out`;
  const cached = m.cachedTokens ? `, ${m.cachedTokens} cached` : "";
  const reasoning = m.reasoningTokens ? ` (${m.reasoningTokens} thinking)` : "";
  return `${m.promptTokens ?? 0} in${cached} · ${m.completionTokens} out${reasoning}`;
}

export type FrameProps = {
  messageId: string;
  safeBlocks: string[];
  /** The open tail: its new HTML, or sanitized text to append `depth` elements down, or unchanged. */
  tail: Frame["tail"];
  reasoning?: string;
  /** Set on the frame that brings the answer's first words after its reasoning. */
  thinkingMs?: number;
};

/**
 * One streaming frame: append new reasoning and the blocks that finished, then replace the open
 * tail or append text to its innermost open element (the last child at each level, see tailGrowth).
 */
export function FrameFragment({ messageId, safeBlocks, tail, reasoning, thinkingMs }: FrameProps): JSX.Element {
  const tailId = `msg-${messageId}-tail`;
  const safeTailHtml = tail && "safeHtml" in tail ? tail.safeHtml : undefined;
  const safeAppend = tail && "safeAppend" in tail ? tail.safeAppend : undefined;
  const depth = tail && "depth" in tail ? tail.depth : 0;
  return (
    <>
      {reasoning ? (
        <pre id={`msg-${messageId}-thinking`} hx-swap-oob="beforeend" safe>
          {reasoning}
        </pre>
      ) : (
        ""
      )}
      {thinkingMs !== undefined ? <ThoughtSummary id={`msg-${messageId}`} ms={thinkingMs} oob /> : ""}
      {safeBlocks.length ? (
        <div id={`msg-${messageId}-blocks`} hx-swap-oob="beforeend">
          {safeBlocks.join("")}
        </div>
      ) : (
        ""
      )}
      {safeTailHtml !== undefined ? (
        <div id={tailId} hx-swap-oob="true">
          {safeTailHtml}
        </div>
      ) : (
        ""
      )}
      {safeAppend !== undefined ? (
        <div hx-swap-oob={`beforeend:#${tailId}${" > :last-child".repeat(depth)}`}>{safeAppend}</div>
      ) : (
        ""
      )}
    </>
  );
}
