/**
 * A header button and the dialog it opens (a native popover), whose panel is fetched when it
 * opens: on every opening when `fresh`, else on the first only.
 */
export function PanelButton(props: {
  id: string;
  button: string;
  label: string;
  src: string;
  fresh?: boolean;
  width: string;
}): JSX.Element {
  return (
    <>
      <button
        type="button"
        popovertarget={props.id}
        class="rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800"
        safe
      >
        {props.button}
      </button>
      <div
        id={props.id}
        popover
        role="dialog"
        aria-label={props.label}
        hx-get={props.src}
        hx-trigger={props.fresh ? "panel-opened" : "toggle once"}
        data-fresh={props.fresh ? "" : undefined}
        class={`m-auto max-h-[calc(100dvh-2rem)] ${props.width} overflow-y-auto rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100`}
      >
        <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
      </div>
    </>
  );
}
