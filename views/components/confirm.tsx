/**
 * A destructive action asked twice, in the page: its button opens a native popover that names
 * what will go and offers the action and Cancel. The popover needs no script (Esc and a click
 * outside close it too), so a plain form posts only once confirmed. Cancel, the harmless choice,
 * has `autofocus`: the browser focuses it as the popover opens, in the same task as the click or
 * key, so a Tab pressed at once already starts from Cancel (a `toggle` listener ran a task later
 * and pulled focus back from wherever that Tab had gone).
 */
export function ConfirmButton(props: {
  /** The popover's id, unique in the page. */
  id: string;
  /** The button that asks: "Delete". */
  button: string;
  buttonClass: string;
  /** What will happen, as a question: "Delete this chat?" */
  question: string;
  /** A sentence more, if any: "This cannot be undone." */
  detail?: string;
  /** The confirming button's words: "Delete chat". */
  confirm: string;
  /** A form posted to this path once confirmed, or an htmx DELETE of this path. */
  post?: string;
  hxDelete?: string;
  /** Or, inside a form of its own: the confirming button submits that form with this name and value. */
  submit?: { name: string; value: string };
}): JSX.Element {
  const confirmClass =
    "rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-600 dark:bg-red-600 dark:hover:bg-red-500";
  return (
    <>
      <button type="button" popovertarget={props.id} class={props.buttonClass} safe>
        {props.button}
      </button>
      <div
        id={props.id}
        popover
        data-confirm
        role="alertdialog"
        aria-labelledby={`${props.id}-question`}
        aria-describedby={props.detail ? `${props.id}-detail` : undefined}
        class="m-auto w-[min(28rem,calc(100vw-2rem))] rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
      >
        <p id={`${props.id}-question`} class="font-medium" safe>
          {props.question}
        </p>
        {props.detail ? (
          <p id={`${props.id}-detail`} class="mt-1 text-sm text-zinc-600 dark:text-zinc-400" safe>
            {props.detail}
          </p>
        ) : (
          ""
        )}
        <div class="mt-4 flex flex-wrap justify-end gap-2">
          <button
            type="button"
            autofocus
            popovertarget={props.id}
            popovertargetaction="hide"
            class="rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Cancel
          </button>
          {props.submit ? (
            <button type="submit" name={props.submit.name} value={props.submit.value} class={confirmClass} safe>
              {props.confirm}
            </button>
          ) : props.post ? (
            <form method="post" action={props.post}>
              <button type="submit" class={confirmClass} safe>
                {props.confirm}
              </button>
            </form>
          ) : (
            <button type="button" hx-delete={props.hxDelete} class={confirmClass} safe>
              {props.confirm}
            </button>
          )}
        </div>
      </div>
    </>
  );
}
