import { versionOf } from "../../src/chat/page-state.ts";
import type { ChatList } from "../../src/chat/types.ts";
import type { Chat, User } from "../../src/db/schema.ts";
import type { ProjectGroup } from "../../src/projects/types.ts";
import { AdminAndSignOut } from "./account-links.tsx";
import { ChatSelect } from "./bulk.tsx";
import { MoveToButton } from "./projects.tsx";
import { SearchBox } from "./search.tsx";

export type SidebarProps = ChatList & { currentId?: string };

/** The sidebar as a page renders it: the projects above the list (see ProjectGroups), the open chat's open. */
export type FullSidebarProps = SidebarProps & { user: User; groups: ProjectGroup[]; openGroup?: OpenGroup };

/**
 * The person's chats, newest activity first; a dot marks those whose answer is being written.
 * At the bottom: who is signed in, their account, the admin page, sign out. On a phone it is a
 * drawer over the page, opened by the header's Chats button (app.js).
 */
export function Sidebar({ user, groups, openGroup, ...list }: FullSidebarProps): JSX.Element {
  return (
    <aside
      id="sidebar"
      class="fixed inset-y-0 left-0 z-40 hidden w-[min(20rem,85vw)] shrink-0 flex-col border-r border-zinc-200 bg-zinc-50 shadow-xl data-open:flex md:static md:z-auto md:flex md:w-72 md:shadow-none dark:border-zinc-800 dark:bg-zinc-900"
    >
      <div class="flex items-center justify-between gap-2 p-3">
        <a href="/" class="flex items-center gap-2 text-lg font-semibold tracking-tight">
          Parley
        </a>
        <form method="get" action="/" data-new-chat>
          <button
            type="submit"
            class="rounded-md border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-200 max-md:min-h-11 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            New chat
          </button>
        </form>
      </div>
      <SearchBox />
      {/* While it holds results, the chat list below it is hidden (app.css). */}
      <div id="search-results" aria-live="polite" class="min-h-0 overflow-y-auto"></div>
      <ProjectGroups groups={groups} open={openGroup} />
      <ChatSelect groups={groups} />
      <ChatNav {...list} />
      <div class="flex items-center justify-between gap-2 border-t border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800">
        <a
          href="/account"
          class="min-w-0 truncate rounded-md px-2 py-1 hover:bg-zinc-200 dark:hover:bg-zinc-800"
          title="Account"
          safe
        >
          {user.username}
        </a>
        <div class="flex shrink-0 items-center gap-1">
          {/* An icon, so that a name of some length still shows beside it. */}
          <a href="/archive" title="Archived chats" class="rounded-md p-1.5 hover:bg-zinc-200 dark:hover:bg-zinc-800">
            <span class="sr-only">Archive</span>
            <svg
              aria-hidden="true"
              viewBox="0 0 24 24"
              fill="none"
              stroke="currentColor"
              stroke-width="2"
              stroke-linecap="round"
              stroke-linejoin="round"
              class="size-4"
            >
              <rect x="3" y="4" width="18" height="4" rx="1" />
              <path d="M5 8v11a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8M10 12h4" />
            </svg>
          </a>
          <AdminAndSignOut user={user} itemClass="rounded-md px-2 py-1 hover:bg-zinc-200 dark:hover:bg-zinc-800" />
        </div>
      </div>
    </aside>
  );
}

/**
 * The list itself: its first page, pushed to every tab when it changes (a few KB, a few times per
 * answer); the rest loads as it is scrolled into view (ChatListPage).
 */
export function ChatNav({
  pinned,
  chats,
  generating,
  more,
  currentId,
  oob,
}: SidebarProps & { oob?: boolean }): JSX.Element {
  const heading = "px-2 pt-2 pb-1 text-xs font-medium tracking-wide text-zinc-500 uppercase dark:text-zinc-400";
  return (
    <nav
      id="chat-nav"
      hx-swap-oob={oob ? "true" : undefined}
      data-version={versionOf(
        [...pinned, ...chats].map((c) => [c.id, c.title, c.pinnedAt !== null, generating.has(c.id)]),
      )}
      aria-label="Chats"
      class="min-h-0 flex-1 overflow-y-auto px-2 pb-4"
    >
      {pinned.length === 0 && chats.length === 0 ? (
        <p data-no-chats class="px-2 text-sm text-zinc-500 dark:text-zinc-400">
          No chats yet.
        </p>
      ) : (
        ""
      )}
      {pinned.length ? (
        <>
          <h2 id="chat-nav-pinned" class={heading}>
            Pinned
          </h2>
          <ul aria-labelledby="chat-nav-pinned" class="space-y-0.5">
            {pinned.map((chat) => (
              <ChatItem chat={chat} generating={generating.has(chat.id)} current={chat.id === currentId} selectable />
            ))}
          </ul>
          {chats.length ? (
            <h2 id="chat-nav-recent" class={heading}>
              Recent
            </h2>
          ) : (
            ""
          )}
        </>
      ) : (
        ""
      )}
      <ul aria-labelledby={pinned.length ? "chat-nav-recent" : undefined} class="space-y-0.5">
        <ChatListPage chats={chats} generating={generating} more={more} currentId={currentId} />
      </ul>
    </nav>
  );
}

/** A page of the list, and where the next one loads from when it comes into view. */
export function ChatListPage({ chats, generating, more, currentId }: Omit<SidebarProps, "pinned">): JSX.Element {
  return (
    <>
      {chats.map((chat) => (
        <ChatItem chat={chat} generating={generating.has(chat.id)} current={chat.id === currentId} selectable />
      ))}
      {more ? (
        <li
          id="chat-list-more"
          hx-get={`/chats/list?after=${more}`}
          hx-trigger="intersect once"
          hx-swap="outerHTML"
          class="px-2 py-1.5 text-sm text-zinc-500 dark:text-zinc-400"
        >
          Loading more chats…
        </li>
      ) : (
        ""
      )}
    </>
  );
}

/** `selectable`: in the chat list, with its checkbox for Select (shown only while Select is on: ChatSelect). */
export type ChatItemProps = { chat: Chat; generating: boolean; current?: boolean; selectable?: boolean };

/**
 * A chat in the list or in a project group. Styled by its class (app.css) and its Move to… loaded
 * by app.js: the markup repeats for every chat the sidebar shows (692 bytes each before, 53 KB of
 * a page with 50 chats listed). Its link can be dragged onto a project's group (app.js).
 */
export function ChatItem({ chat, generating, current, selectable }: ChatItemProps): JSX.Element {
  return (
    <li id={`chat-item-${chat.id}`} data-generating={generating ? "true" : "false"} class="chat-item">
      {selectable ? (
        <input type="checkbox" name="ids" value={chat.id} form="chat-select" aria-labelledby={`ct-${chat.id}`} />
      ) : (
        ""
      )}
      <a href={`/chats/${chat.id}`} aria-current={current ? "page" : undefined}>
        <span id={selectable ? `ct-${chat.id}` : undefined} safe>
          {chat.title || "New chat"}
        </span>
        {generating ? <span role="img" aria-label="generating" /> : ""}
      </a>
      <MoveToButton compact />
    </li>
  );
}

/** The chats of the project whose sidebar group shows them open, as the page is rendered. */
export type OpenGroup = { id: string } & Omit<ChatList, "pinned">;

/**
 * The sidebar's projects, above the chats outside any: each a disclosure group, closed unless
 * it holds the open chat or this browser left it open (app.js). app.js loads a group's chats
 * (GET /projects/<id>/chats) each time it opens, so a person with 50 projects is sent 50 names,
 * not their chats (bench/sidebar.ts). Pushed to every tab with the chat list (chat/sidebar.ts).
 */
export function ProjectGroups({
  groups,
  open,
  oob,
}: {
  groups: ProjectGroup[];
  open?: OpenGroup;
  oob?: boolean;
}): JSX.Element {
  return (
    <section
      id="project-groups"
      hx-swap-oob={oob ? "true" : undefined}
      data-version={versionOf(groups.map((g) => [g.id, g.name]))}
      aria-labelledby="project-groups-heading"
      class="max-h-[45%] shrink-0 overflow-y-auto px-2 pb-1"
    >
      <div class="flex items-center justify-between px-2 py-1">
        <h2 id="project-groups-heading" class="text-xs font-semibold text-zinc-500 uppercase dark:text-zinc-400">
          Projects
        </h2>
        <a href="/projects" class="text-xs text-indigo-700 hover:underline dark:text-indigo-400">
          {groups.length ? "All projects" : "New project"}
        </a>
      </div>
      {groups.map((g) => (
        // Styled by its class (app.css): the markup repeats for each project.
        <details open={open?.id === g.id} data-project-group={g.id} class="project-group">
          <summary>
            <span aria-hidden="true">›</span>
            <span safe>{g.name}</span>
          </summary>
          <ul aria-label="Chats">{open?.id === g.id ? <ProjectGroupChats {...open} /> : ""}</ul>
        </details>
      ))}
    </section>
  );
}

/** An open group's chats: the newest few (not the pinned: those head the list), then where the rest are. */
export function ProjectGroupChats({ id, chats, generating, more }: OpenGroup) {
  return (
    <>
      {chats.map((chat) => (
        <ChatItem chat={chat} generating={generating.has(chat.id)} />
      ))}
      <li class="flex flex-wrap gap-x-3 px-2 py-1 text-xs max-md:py-3">
        {chats.length ? "" : <span class="text-zinc-500 dark:text-zinc-400">No chats yet.</span>}
        <a href={`/?project=${id}`} class="text-indigo-700 hover:underline dark:text-indigo-400">
          New chat here
        </a>
        <a href={`/projects/${id}`} class="text-zinc-600 hover:underline dark:text-zinc-400">
          {more ? "All its chats" : "Open project"}
        </a>
      </li>
    </>
  );
}
