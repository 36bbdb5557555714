import type { Chat } from "../../src/db/schema.ts";

/** The sidebar's chats, newest activity first. */
export function ChatList({ chats }: { chats: Chat[] }): JSX.Element {
  if (chats.length === 0) {
    return <p class="text-sm text-zinc-500 dark:text-zinc-400">No chats yet.</p>;
  }
  return (
    <nav aria-label="Chats">
      <ul class="space-y-1">
        {chats.map((chat) => (
          <li>
            <a
              id={`chat-link-${chat.id}`}
              href={`/chats/${chat.id}`}
              class="block truncate rounded px-2 py-1 text-sm hover:bg-zinc-200 dark:hover:bg-zinc-800"
              safe
            >
              {chat.title || "New chat"}
            </a>
          </li>
        ))}
      </ul>
    </nav>
  );
}
