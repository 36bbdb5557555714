import type { Children } from "@kitajs/html";
import type { MessageStatus, Share, SharedMessage } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { MessageAttachments } from "../components/attachments.tsx";
import { Layout } from "../layout.tsx";

/** What an answer that was not finished when the chat was shared says about itself. */
const UNFINISHED: Partial<Record<MessageStatus, string>> = {
  streaming: "Incomplete: this answer was still being written when the chat was shared.",
  stopped: "Incomplete: stopped before the end.",
  error: "Incomplete: the answer failed.",
  interrupted: "Incomplete: the answer was interrupted.",
};

/**
 * A published snapshot, for anyone with the link: the title and the messages with their files
 * (served from `filesAt`, the snapshot's own address), nothing else (no other chat, no account,
 * no composer, no socket).
 */
export function SharedPage({
  assets,
  share,
  filesAt,
}: {
  assets: AssetUrls;
  share: Share;
  filesAt: string;
}): JSX.Element {
  const title = share.title || "Untitled chat";
  return (
    <SharedShell assets={assets} title={`${title} · Shared from Parley`}>
      <header class="border-b border-zinc-200 pb-4 dark:border-zinc-800">
        <p class="text-sm font-medium text-indigo-600 dark:text-indigo-400">Shared chat</p>
        <h1 class="mt-1 text-2xl font-semibold tracking-tight break-words" safe>
          {title}
        </h1>
      </header>
      <section aria-label="Conversation" class="flex flex-col gap-5 py-6">
        {share.messages.length === 0 ? (
          <p class="text-zinc-500 dark:text-zinc-400">This chat had no messages yet.</p>
        ) : (
          ""
        )}
        {share.messages.map((m) => (
          <SharedArticle message={m} filesAt={filesAt} />
        ))}
      </section>
      <footer class="border-t border-zinc-200 pt-4 text-sm text-zinc-500 dark:text-zinc-400 dark:border-zinc-800">
        A read-only snapshot shared from Parley on{" "}
        <time datetime={share.createdAt.toISOString()} safe>
          {share.createdAt.toISOString().slice(0, 16).replace("T", " ")}
        </time>
        . Messages written after that are not part of it.
      </footer>
    </SharedShell>
  );
}

/** A link that does not work: never made, revoked, or its chat deleted; all look the same. */
export function SharedMissing({ assets }: { assets: AssetUrls }): JSX.Element {
  return (
    <SharedShell assets={assets} title="Not found · Parley">
      <h1 class="text-2xl font-semibold tracking-tight">There is nothing here</h1>
      <p class="mt-3 text-zinc-600 dark:text-zinc-400">
        This link does not lead to a shared chat. It may be mistyped, or whoever shared the chat has stopped sharing it.
      </p>
    </SharedShell>
  );
}

function SharedShell({ assets, title, children }: { assets: AssetUrls; title: string; children: Children }) {
  return (
    <Layout title={title} assets={assets} readOnly>
      <main class="mx-auto max-w-3xl px-4 py-8">{children}</main>
    </Layout>
  );
}

/** One message, styled as the chat page shows it, without its actions. */
function SharedArticle({ message, filesAt }: { message: SharedMessage; filesAt: string }): JSX.Element {
  const files = message.attachments?.length ? <MessageAttachments files={message.attachments} filesAt={filesAt} /> : "";
  const time = (
    <time datetime={message.createdAt} safe>
      {message.createdAt.slice(0, 16).replace("T", " ")}
    </time>
  );
  if (message.role === "user") {
    return (
      <article data-role="user" class="ml-auto max-w-[85%] sm:max-w-[75%]">
        {files}
        <div class="rounded-2xl bg-indigo-600 px-4 py-2 whitespace-pre-wrap break-words text-white" safe>
          {message.content}
        </div>
        <footer class="mt-1 flex justify-end text-xs text-zinc-500 dark:text-zinc-400">{time}</footer>
      </article>
    );
  }
  // Rendered from Markdown and sanitized when the answer was stored (or when it was shared).
  const safeHtml = message.html;
  const note = UNFINISHED[message.status];
  return (
    <article data-role="assistant" data-status={message.status} class="w-full">
      <div class="markdown min-w-0 break-words">{safeHtml}</div>
      {/* An answer's files (images it made) come under its words, as in the chat. */}
      {files}
      <footer class="mt-1 flex flex-wrap items-center gap-x-2 gap-y-1 text-xs text-zinc-500 dark:text-zinc-400">
        {time}
        {message.model ? <span safe>{message.model}</span> : ""}
        {note ? (
          <span class="font-medium text-amber-700 dark:text-amber-400" safe>
            {note}
          </span>
        ) : (
          ""
        )}
      </footer>
    </article>
  );
}
