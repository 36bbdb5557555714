/** The pieces the account pages share: a labelled field, a button, and the messages above a form. */

export function Field(props: {
  label: string;
  id?: string;
  name: string;
  type?: string;
  autocomplete?: string;
  value?: string;
  required?: boolean;
  minlength?: number;
  maxlength?: number;
  autofocus?: boolean;
  hint?: string;
}): JSX.Element {
  const id = props.id ?? `field-${props.name}`;
  return (
    <div class="flex flex-col gap-1">
      <label for={id} class="text-sm font-medium" safe>
        {props.label}
      </label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        autocomplete={props.autocomplete}
        value={props.value}
        required={props.required ?? true}
        minlength={props.minlength}
        maxlength={props.maxlength}
        autofocus={props.autofocus}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
        class="rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900"
      />
      {props.hint ? (
        <p id={`${id}-hint`} class="text-xs text-zinc-500 dark:text-zinc-400" safe>
          {props.hint}
        </p>
      ) : (
        ""
      )}
    </div>
  );
}

export function Button(props: {
  label: string;
  kind?: "primary" | "plain" | "danger";
  name?: string;
  value?: string;
}): JSX.Element {
  const kind = props.kind ?? "primary";
  const look =
    kind === "primary"
      ? "bg-indigo-600 text-white hover:bg-indigo-500"
      : kind === "danger"
        ? "border border-red-300 text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
        : "border border-zinc-300 hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800";
  return (
    <button
      type="submit"
      name={props.name}
      value={props.value}
      class={`rounded-md px-4 py-2 text-sm font-medium ${look}`}
      safe
    >
      {props.label}
    </button>
  );
}

/** An error (role=alert, read out at once) or a confirmation (role=status). */
export function Notice({ error, notice }: { error?: string; notice?: string }): JSX.Element {
  if (error) {
    return (
      <p
        role="alert"
        class="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
        safe
      >
        {error}
      </p>
    );
  }
  if (notice) {
    return (
      <p
        role="status"
        class="rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
        safe
      >
        {notice}
      </p>
    );
  }
  return "";
}
