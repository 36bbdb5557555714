import type { ShareSummary } from "../../src/share/types.ts";
import { PanelButton } from "./popover.tsx";
import { ShownOnce } from "./shown-once.tsx";

/** "Share" in the chat's header: a small dialog (a native popover) that loads its panel when first opened. */
export function ShareButton({ chatId }: { chatId: string }): JSX.Element {
  return (
    <PanelButton
      id="share-dialog"
      button="Share"
      label="Share this chat"
      src={`/chats/${chatId}/shares`}
      width="w-[min(28rem,calc(100vw-2rem))]"
    />
  );
}

export type SharePanelProps = {
  chatId: string;
  shares: ShareSummary[];
  /** The link just made: shown this once, since only its hash is kept. */
  fresh?: { id: string; url: string };
};

/** The share dialog's content: make a link, copy the one just made, stop sharing any of them. */
export function SharePanel({ chatId, shares, fresh }: SharePanelProps): JSX.Element {
  return (
    <div id="share-panel" class="flex flex-col gap-3">
      <div class="flex items-start justify-between gap-2">
        <h2 class="font-semibold">Share this chat</h2>
        <button
          type="button"
          popovertarget="share-dialog"
          popovertargetaction="hide"
          aria-label="Close"
          class="-mt-1 rounded-md px-2 py-0.5 text-zinc-500 dark:text-zinc-400 hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          ✕
        </button>
      </div>
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        Anyone with the link can read this chat as it is now, without signing in. What you write later is not shared.
      </p>
      <form hx-post={`/chats/${chatId}/shares`} hx-target="#share-panel" hx-swap="outerHTML">
        <button type="submit" class="rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white">
          {shares.length ? "Create a new link" : "Create a link"}
        </button>
      </form>
      {shares.length ? (
        <ul aria-label="Links to this chat" class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
          {shares.map((s) => (
            <ShareItem share={s} url={fresh?.id === s.id ? fresh.url : undefined} />
          ))}
        </ul>
      ) : (
        ""
      )}
    </div>
  );
}

/** Every link a person has published, on their account page. */
export function SharedLinks({ shares }: { shares: ShareSummary[] }): JSX.Element {
  return (
    <div id="shared-links">
      {shares.length ? (
        <ul class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
          {shares.map((s) => (
            <ShareItem share={s} withTitle />
          ))}
        </ul>
      ) : (
        <p class="text-sm text-zinc-600 dark:text-zinc-400">
          You have not shared any chat. Open a chat and choose Share to publish a read-only link to it.
        </p>
      )}
    </div>
  );
}

/** One link: when it was made and how much it holds; the link itself only just after it was made. */
function ShareItem({ share, url, withTitle }: { share: ShareSummary; url?: string; withTitle?: boolean }) {
  const count = `${share.messageCount} ${share.messageCount === 1 ? "message" : "messages"}`;
  return (
    <li data-share={share.id} class="flex flex-col gap-2 py-2">
      {url ? <ShownOnce id="share-link" label="Your new link" value={url} what="link" /> : ""}
      <div class="flex flex-wrap items-center justify-between gap-2 text-sm">
        <span class="min-w-0 text-zinc-600 dark:text-zinc-400">
          {withTitle ? (
            <>
              <a
                href={`/chats/${share.chatId}`}
                class="font-medium text-zinc-900 hover:underline dark:text-zinc-100"
                safe
              >
                {share.title || "Untitled chat"}
              </a>
              {" · "}
            </>
          ) : (
            ""
          )}
          shared{" "}
          <time datetime={share.createdAt.toISOString()} safe>
            {share.createdAt.toISOString().slice(0, 16).replace("T", " ")}
          </time>
          {" · "}
          <span safe>{count}</span>
        </span>
        <button
          type="button"
          hx-delete={`/shares/${share.id}`}
          hx-target="closest li"
          hx-swap="outerHTML"
          class="-mx-2 rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
        >
          Stop sharing
        </button>
      </div>
    </li>
  );
}
