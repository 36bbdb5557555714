import type { ProjectGroup } from "../../src/projects/types.ts";
import { ConfirmButton } from "./confirm.tsx";

const BUTTON =
  "rounded-md border border-zinc-300 px-2.5 py-1 text-sm font-medium hover:bg-zinc-200 max-md:min-h-11 dark:border-zinc-700 dark:hover:bg-zinc-800";

/**
 * The head of the chat list, and its Select: a switch (a checkbox, so it works by keyboard and
 * without script: app.css shows each listed chat's own checkbox while it is on) and a bar to
 * archive, delete or move the chats checked, all one form posted to /chats/bulk. The chats'
 * checkboxes sit in the list (ChatItem) and belong to this form by its id; the list is pushed
 * again after every change, and app.js keeps what was checked. Cancel resets the form: nothing
 * checked, the switch off.
 */
export function ChatSelect({ groups }: { groups: ProjectGroup[] }): JSX.Element {
  return (
    <form
      id="chat-select"
      method="post"
      action="/chats/bulk"
      hx-post="/chats/bulk"
      hx-swap="none"
      class="shrink-0 px-2 pt-1"
    >
      <div class="flex min-h-8 items-center justify-between gap-2 px-2">
        <h2 class="text-xs font-semibold text-zinc-500 uppercase dark:text-zinc-400" data-select-off>
          Chats
        </h2>
        <p class="text-sm font-medium" data-select-on data-select-count aria-live="polite">
          Check the chats to change
        </p>
        <label class="select-toggle" data-select-off>
          <input type="checkbox" id="select-mode" class="sr-only" />
          Select
        </label>
        <button type="reset" class="select-toggle" data-select-on>
          Cancel
        </button>
      </div>
      <div class="flex flex-wrap items-center gap-1.5 px-2 pt-1 pb-2" data-select-on>
        <button type="submit" name="action" value="archive" class={BUTTON}>
          Archive
        </button>
        <button type="button" popovertarget="bulk-move" class={BUTTON}>
          Move to…
        </button>
        <div
          id="bulk-move"
          popover
          role="dialog"
          aria-labelledby="bulk-move-heading"
          class="m-auto max-h-[calc(100dvh-2rem)] w-[min(22rem,calc(100vw-2rem))] overflow-y-auto rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
        >
          <p id="bulk-move-heading" class="mb-2 font-medium">
            Move the checked chats to…
          </p>
          <BulkMoveChoices groups={groups} />
          <div class="mt-3 flex justify-end gap-2">
            <button
              type="button"
              popovertarget="bulk-move"
              popovertargetaction="hide"
              class="rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Cancel
            </button>
            <button
              type="submit"
              name="action"
              value="move"
              class="rounded-md bg-indigo-700 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-600 dark:bg-indigo-600 dark:hover:bg-indigo-500"
            >
              Move
            </button>
          </div>
        </div>
        <ConfirmButton
          id="bulk-delete"
          button="Delete"
          buttonClass={`${BUTTON} text-red-700 dark:text-red-400`}
          question="Delete the checked chats?"
          detail="Their messages and files go with them. This cannot be undone."
          confirm="Delete chats"
          submit={{ name: "action", value: "delete" }}
        />
      </div>
      <p id="chat-select-status" role="status" class="px-2 text-sm text-red-700 empty:hidden dark:text-red-400"></p>
    </form>
  );
}

/**
 * Where the checked chats can go: the person's projects as the page was rendered (app.js takes
 * them afresh from the sidebar's groups as it opens, which are pushed live), and out of any.
 */
export function BulkMoveChoices({ groups }: { groups: ProjectGroup[] }): JSX.Element {
  // Styled by its class (app.css): one per project, in every page with a chat list.
  const choice = (value: string, label: string) => (
    <label class="bulk-choice">
      <input type="radio" name="project" value={value} />
      <span safe>{label}</span>
    </label>
  );
  return (
    <fieldset id="bulk-move-choices" class="flex flex-col gap-0.5">
      <legend class="sr-only">Project</legend>
      {groups.map((g) => choice(g.id, g.name))}
      {choice("", "No project")}
    </fieldset>
  );
}
