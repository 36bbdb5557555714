import type { Preset } from "../../src/db/schema.ts";
import { describeSettings } from "./chat-settings.tsx";

const menuItem =
  "block rounded px-3 py-1.5 text-sm whitespace-nowrap hover:bg-zinc-100 dark:hover:bg-zinc-800 aria-[current=true]:font-semibold";

/** The new-chat page's "Presets" menu: each starts the new chat from that preset (plain links, no script). */
export function PresetMenu({ presets, chosen }: { presets: Preset[]; chosen?: Preset }): JSX.Element {
  return (
    <details class="relative">
      <summary class="cursor-pointer list-none rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
        Presets
      </summary>
      <div class="absolute right-0 z-10 mt-1 flex max-h-80 w-64 flex-col overflow-y-auto rounded-md border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
        {presets.map((p) => (
          <a href={`/?preset=${p.id}`} aria-current={p.id === chosen?.id ? "true" : undefined} class={menuItem}>
            <span class="block truncate" safe>
              {p.name}
            </span>
          </a>
        ))}
        {presets.length ? (
          ""
        ) : (
          <p class="px-3 py-1.5 text-sm text-zinc-500 dark:text-zinc-400">You have no presets yet.</p>
        )}
        <a
          href="/presets"
          class={`${menuItem} border-t border-zinc-200 text-indigo-700 dark:border-zinc-700 dark:text-indigo-400`}
        >
          Manage presets
        </a>
      </div>
    </details>
  );
}

/** Under the new chat's header: the preset it starts from, which the first message sends along. */
export function PresetChosen({ preset }: { preset: Preset }): JSX.Element {
  const detail = describeSettings(preset)
    .map((part) => ` · ${part}`)
    .join("");
  return (
    <div class="flex min-w-0 items-baseline gap-2 border-b border-zinc-200 bg-zinc-50 px-3 py-1 text-xs text-zinc-600 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-400">
      <input type="hidden" name="preset" value={preset.id} form="composer" />
      <span class="min-w-0 truncate">
        Starting from the preset <strong safe>{preset.name}</strong>
        <span safe>{detail}</span>
      </span>
      <a href="/" class="ml-auto shrink-0 underline">
        No preset
      </a>
    </div>
  );
}
