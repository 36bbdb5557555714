import type { Message } from "../../src/db/schema.ts";

/** The buttons under a message: at least 24 px each way (WCAG 2.2's minimum target size). */
export const TARGET = "inline-flex min-h-6 min-w-6 items-center justify-center rounded px-1.5";

/**
 * Edit a sent message: sending the new words starts a branch from it (the old one is kept). While
 * it is open the message itself is hidden (app.css). Enter sends and Esc cancels (app.js); Cancel
 * is a reset button, so even without the script it puts the message's words back.
 */
export function EditMessage({ message }: { message: Message }): JSX.Element {
  return (
    <details data-edit class="basis-full open:mt-1 [&:not([open])]:basis-auto">
      <summary
        class={`${TARGET} cursor-pointer list-none font-medium hover:bg-zinc-100 hover:text-zinc-800 dark:hover:bg-zinc-800 dark:hover:text-zinc-200`}
      >
        Edit
      </summary>
      <form ws-send data-edit-form class="mt-1 flex flex-col items-end gap-2">
        <input type="hidden" name="action" value="edit" />
        <input type="hidden" name="message" value={message.id} />
        <label class="sr-only" for={`edit-${message.id}`}>
          Your edit
        </label>
        <textarea
          id={`edit-${message.id}`}
          name="content"
          rows="3"
          required
          maxlength="32000"
          aria-describedby={`edit-${message.id}-keys`}
          class="w-full min-w-72 rounded-md border border-zinc-300 bg-white p-2 text-sm text-zinc-900 focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950 dark:text-zinc-100"
          safe
        >
          {message.content}
        </textarea>
        <div class="flex items-center gap-2">
          <span id={`edit-${message.id}-keys`} class="sr-only">
            Enter sends, Shift+Enter starts a new line, Escape cancels.
          </span>
          <button
            type="reset"
            class="rounded-md border border-zinc-300 px-3 py-1 text-sm font-medium text-zinc-700 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            Cancel
          </button>
          <button
            type="submit"
            class="rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-500"
          >
            Send
          </button>
        </div>
      </form>
    </details>
  );
}
