/** "Mod" is Ctrl, or Cmd on a Mac: the page says Ctrl and app.js relabels it there. */
const SHORTCUTS: { keys: string[][]; what: string }[] = [
  { keys: [["Mod", "Shift", "O"]], what: "New chat" },
  { keys: [["Mod", "K"]], what: "Search chats" },
  { keys: [["Shift", "Esc"], ["/"]], what: "Write a message" },
  { keys: [["Esc"]], what: "Stop the answer being written" },
  { keys: [["?"]], what: "Show these shortcuts" },
];

const kbd =
  "rounded border border-b-2 border-zinc-300 bg-zinc-50 px-1.5 py-0.5 font-mono text-xs dark:border-zinc-600 dark:bg-zinc-800";

/** The keyboard shortcuts, listed in a dialog that `?` (or the sidebar's button) opens. */
export function ShortcutsDialog(): JSX.Element {
  return (
    <dialog
      id="shortcuts"
      aria-labelledby="shortcuts-title"
      class="m-auto w-[calc(100%-2rem)] max-w-md rounded-xl border border-zinc-200 bg-white p-0 text-zinc-900 shadow-xl backdrop:bg-black/40 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      {/* The content fills the dialog, so a click on the dialog itself is on the backdrop (app.js). */}
      <div class="p-5">
        <div class="mb-4 flex items-center justify-between gap-4">
          <h2 id="shortcuts-title" class="text-lg font-semibold">
            Keyboard shortcuts
          </h2>
          <form method="dialog">
            <button
              type="submit"
              class="rounded-md border border-zinc-300 px-3 py-1 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Close
            </button>
          </form>
        </div>
        <dl class="divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
          {SHORTCUTS.map((s) => (
            <div class="flex items-center justify-between gap-4 py-2">
              <dt class="text-zinc-700 dark:text-zinc-300" safe>
                {s.what}
              </dt>
              <dd class="flex shrink-0 items-center gap-1 text-zinc-500 dark:text-zinc-400">
                {s.keys.map((combo, i) => (
                  <>
                    {i > 0 ? <span class="px-1">or</span> : ""}
                    {combo.map((key) =>
                      key === "Mod" ? (
                        <kbd class={kbd} data-mod>
                          Ctrl
                        </kbd>
                      ) : (
                        <kbd class={kbd} safe>
                          {key}
                        </kbd>
                      ),
                    )}
                  </>
                ))}
              </dd>
            </div>
          ))}
        </dl>
        <p class="mt-4 text-xs text-zinc-500 dark:text-zinc-400">/ and ? work when you are not typing in a box.</p>
      </div>
    </dialog>
  );
}

/** Opens the shortcuts dialog, for those who do not know to press `?`; only where a keyboard is likely. */
export function ShortcutsButton(): JSX.Element {
  return (
    <button
      type="button"
      data-open-shortcuts
      aria-haspopup="dialog"
      class="hidden shrink-0 items-center gap-1 rounded px-1 text-xs text-zinc-500 hover:text-zinc-800 md:flex dark:text-zinc-400 dark:hover:text-zinc-200"
    >
      Shortcuts <kbd class={kbd}>?</kbd>
    </button>
  );
}
