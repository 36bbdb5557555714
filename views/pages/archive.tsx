import type { Chat, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { ConfirmButton } from "../components/confirm.tsx";
import { Button } from "../components/form.tsx";
import { Section, SettingsShell } from "./account.tsx";

export type ArchivePageProps = {
  assets: AssetUrls;
  user: User;
  chats: Chat[];
  /** The chat the next page follows, if there are more. */
  more?: string;
};

/** Archived chats: open one, restore it to the list, or delete it. Plain forms, no script. */
export function ArchivePage(props: ArchivePageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Archive" user={props.user}>
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        Archived chats are not in your list, and search still finds them. Restore one to put it back in the list.
      </p>
      <Section title="Archived chats">
        {props.chats.length ? (
          <ul id="archive-list" class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
            {props.chats.map((chat) => (
              <ArchivedItem chat={chat} />
            ))}
          </ul>
        ) : (
          <p class="text-sm text-zinc-600 dark:text-zinc-400">Nothing is archived.</p>
        )}
        {props.more ? (
          <a
            href={`/archive?before=${props.more}`}
            class="self-start text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400"
          >
            Older
          </a>
        ) : (
          ""
        )}
      </Section>
    </SettingsShell>
  );
}

function ArchivedItem({ chat }: { chat: Chat }): JSX.Element {
  const archived = chat.archivedAt!.toISOString();
  return (
    <li data-chat={chat.id} class="flex flex-wrap items-center gap-x-3 gap-y-2 py-3">
      <div class="min-w-0 flex-1">
        <a href={`/chats/${chat.id}`} class="block truncate font-medium hover:underline" safe>
          {chat.title || "New chat"}
        </a>
        <p class="text-xs text-zinc-500 dark:text-zinc-400">
          archived{" "}
          <time datetime={archived} safe>
            {archived.slice(0, 10)}
          </time>
        </p>
      </div>
      <form method="post" action={`/chats/${chat.id}/archive`}>
        <input type="hidden" name="archived" value="false" />
        <input type="hidden" name="back" value="archive" />
        <Button label="Restore" kind="plain" />
      </form>
      <ConfirmButton
        id={`confirm-delete-${chat.id}`}
        button="Delete"
        buttonClass="rounded-md border border-red-300 px-3 py-1.5 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
        question={`Delete “${(chat.title || "New chat").slice(0, 80)}”?`}
        detail="All its messages and files go with it. This cannot be undone."
        confirm="Delete chat"
        post={`/archive/${chat.id}/delete`}
      />
    </li>
  );
}
