/**
 * A secret shown this once (a new API key, a new share link): only its hash is kept, so the page
 * offers to copy it now and says why it cannot show it again.
 */
export function ShownOnce({ id, label, value, what }: { id: string; label: string; value: string; what: string }) {
  return (
    <div class="flex flex-col gap-1">
      <label for={id} class="text-sm font-medium" safe>
        {label}
      </label>
      <div class="flex gap-2">
        <input
          id={id}
          readonly
          value={value}
          class="min-w-0 flex-1 rounded-md border border-zinc-300 bg-white px-2 py-1 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-950"
        />
        <button
          type="button"
          data-copy-field={id}
          class="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800"
        >
          Copy
        </button>
      </div>
      <p class="text-xs text-zinc-600 dark:text-zinc-400" safe>
        {`Copy it now: Parley keeps only a fingerprint of the ${what}, so it cannot show it again.`}
      </p>
    </div>
  );
}
