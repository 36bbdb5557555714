/** What a temporary chat is, in one sentence: shown on its page, and on the new-chat page once the switch is on. */
export const temporarySentence = (hours: number) =>
  `Temporary chat: not saved in your chats; deleted when you leave it or after ${hours} ${hours === 1 ? "hour" : "hours"}.`;

const NOTICE =
  "mx-3 mt-3 items-start gap-2 rounded-md border border-zinc-300 bg-zinc-50 px-3 py-2 text-sm text-zinc-800 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-200";

function Eye(): JSX.Element {
  // An eye struck through: not kept, not seen later.
  return (
    <svg
      aria-hidden="true"
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      class="mt-0.5 size-4 shrink-0"
    >
      <path d="M9.9 4.2A10 10 0 0 1 12 4c5 0 9 4.5 10 8a13 13 0 0 1-2.2 3.6M6.6 6.6C4.4 8 2.7 10.1 2 12c1 3.5 5 8 10 8a10 10 0 0 0 5.4-1.6" />
      <path d="M9.9 9.9a3 3 0 0 0 4.2 4.2M2 2l20 20" />
    </svg>
  );
}

/**
 * The notice on a temporary chat's page. On the new-chat page (`pending`) it is hidden until the
 * "Temporary chat" switch is on (CSS alone: the main column has the switch).
 */
export function TemporaryNotice({ hours, pending }: { hours: number; pending?: boolean }): JSX.Element {
  return (
    <p
      id="temporary-notice"
      role="status"
      class={`${NOTICE} ${pending ? "hidden group-has-[#temporary:checked]/main:flex" : "flex"}`}
    >
      <Eye />
      <span safe>{temporarySentence(hours)}</span>
    </p>
  );
}

/** The new-chat page's switch: the chat the composer starts is temporary (a field of the composer's form). */
export function TemporaryToggle({ checked }: { checked?: boolean }): JSX.Element {
  return (
    <label
      title="Not saved in your chats; deleted when you leave it"
      class="flex min-h-11 shrink-0 cursor-pointer items-center gap-2 rounded-md px-2 text-sm select-none hover:bg-zinc-100 has-focus-visible:ring-2 has-focus-visible:ring-indigo-500 dark:hover:bg-zinc-800"
    >
      <input id="temporary" type="checkbox" name="temporary" form="composer" checked={checked} class="peer sr-only" />
      <span
        aria-hidden="true"
        class="relative h-5 w-9 shrink-0 rounded-full bg-zinc-300 transition-colors peer-checked:bg-indigo-600 after:absolute after:top-0.5 after:left-0.5 after:size-4 after:rounded-full after:bg-white after:shadow after:transition-transform peer-checked:after:translate-x-4 dark:bg-zinc-700"
      ></span>
      <span>Temporary chat</span>
    </label>
  );
}
