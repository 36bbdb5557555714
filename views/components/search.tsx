import { escapeHtml } from "@kitajs/html";
import { MATCH_END, MATCH_START, type SearchHit } from "../../src/search/types.ts";

const MARKERS = new RegExp(`([${MATCH_START}${MATCH_END}])`);

/** Escaped text with the database's match markers turned into <mark> (an unclosed one is closed). */
export function markMatches(text: string): string {
  let open = false;
  let out = "";
  for (const part of text.split(MARKERS)) {
    if (part === MATCH_START) {
      if (!open) out += "<mark>";
      open = true;
    } else if (part === MATCH_END) {
      if (open) out += "</mark>";
      open = false;
    } else out += escapeHtml(part);
  }
  return open ? `${out}</mark>` : out;
}

/** The box at the top of the chat list; results replace the list while it holds words. */
export function SearchBox(): JSX.Element {
  return (
    <search class="block px-3 pb-2">
      <input
        id="search"
        type="search"
        name="q"
        maxlength="200"
        autocomplete="off"
        placeholder="Search chats"
        aria-label="Search chats"
        aria-controls="search-results"
        hx-get="/search"
        hx-trigger="input changed delay:250ms, search"
        hx-target="#search-results"
        hx-sync="this:replace"
        class="w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950"
      />
    </search>
  );
}

/** What the box found: each chat, its title and the newest matching message, matches marked. */
export function SearchResults({ query, hits }: { query: string; hits: SearchHit[] }): JSX.Element {
  if (!query) return "";
  if (hits.length === 0) {
    return (
      <p class="px-4 pb-3 text-sm text-zinc-500 dark:text-zinc-400">
        No chat matches “<span safe>{query}</span>”.
      </p>
    );
  }
  return (
    <ul class="space-y-0.5 px-2 pb-3" aria-label="Search results">
      {hits.map((hit) => {
        const safeTitle = hit.title ? markMatches(hit.titleMarked) : "New chat";
        const safeSnippet = hit.snippetMarked === null ? "" : markMatches(hit.snippetMarked);
        const href = hit.messageId
          ? `/chats/${hit.chatId}?at=${hit.messageId}#msg-${hit.messageId}`
          : `/chats/${hit.chatId}`;
        return (
          <li>
            <a
              href={href}
              class="block rounded-md px-2 py-1.5 text-sm hover:bg-zinc-200 dark:hover:bg-zinc-800 [&_mark]:rounded-sm [&_mark]:bg-amber-200 [&_mark]:text-inherit dark:[&_mark]:bg-amber-700/60"
            >
              <span class="flex items-baseline gap-2">
                <span class="min-w-0 flex-1 truncate font-medium">{safeTitle}</span>
                {/* In words, not only a colour: the chat is not in the list. */}
                {hit.archived ? (
                  <span class="shrink-0 rounded border border-zinc-300 px-1 text-xs text-zinc-600 dark:border-zinc-600 dark:text-zinc-400">
                    Archived
                  </span>
                ) : (
                  ""
                )}
              </span>
              {safeSnippet ? (
                <span class="line-clamp-2 text-xs text-zinc-600 dark:text-zinc-400">{safeSnippet}</span>
              ) : (
                ""
              )}
            </a>
          </li>
        );
      })}
    </ul>
  );
}
