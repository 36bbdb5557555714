import type { Chat } from "../../src/db/schema.ts";

/** As the header's other actions look, in its row and in its ⋯ menu. */
const ACTION = "w-full rounded-md px-2 py-1 text-left text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800";

/** Pin and Archive in the chat's header: plain forms, so they work by keyboard and without script. */
export function OrganiseButtons({ chat }: { chat: Chat }): JSX.Element {
  const pinned = chat.pinnedAt !== null;
  return (
    <>
      <form method="post" action={`/chats/${chat.id}/pin`}>
        <input type="hidden" name="pinned" value={pinned ? "false" : "true"} />
        <button type="submit" class={ACTION} aria-pressed={pinned ? "true" : "false"}>
          {pinned ? "Unpin" : "Pin"}
        </button>
      </form>
      {chat.archivedAt ? (
        ""
      ) : (
        <form method="post" action={`/chats/${chat.id}/archive`}>
          <input type="hidden" name="archived" value="true" />
          <button type="submit" class={ACTION}>
            Archive
          </button>
        </form>
      )}
    </>
  );
}

/** On an archived chat's page: it is not in the list, and can go back. */
export function ArchivedNotice({ chat }: { chat: Chat }): JSX.Element {
  return (
    <div
      id="archived-notice"
      role="status"
      class="mx-3 mt-3 flex flex-wrap items-center gap-x-3 gap-y-1 rounded-md border border-zinc-300 bg-zinc-50 px-3 py-2 text-sm text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200"
    >
      <span class="flex-1">
        This chat is archived: it is not in your list.{" "}
        <a href="/archive" class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Archive
        </a>
      </span>
      <form method="post" action={`/chats/${chat.id}/archive`}>
        <input type="hidden" name="archived" value="false" />
        <button
          type="submit"
          class="rounded-md border border-zinc-300 px-3 py-1 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Restore
        </button>
      </form>
    </div>
  );
}
