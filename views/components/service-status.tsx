/** A banner over the chat while Parley cannot serve it fully (its database is away); empty and hidden otherwise. */
export function ServiceStatus({ text, oob }: { text?: string; oob?: boolean }): JSX.Element {
  return (
    <div
      id="service-status"
      role="alert"
      hx-swap-oob={oob ? "true" : undefined}
      class={
        text ? "bg-red-100 px-3 py-1 text-center text-sm text-red-900 dark:bg-red-950 dark:text-red-100" : "hidden"
      }
      safe
    >
      {text ?? ""}
    </div>
  );
}
