import { type Source, siteOf } from "../../src/llm/citations.ts";

/** Only links a browser follows safely, whatever a row was given (an import, an older version). */
const WEB = /^https?:\/\//i;

/**
 * The pages an answer's web search found, numbered as its citations are (a citation links to its
 * entry here), each opening in a new tab that cannot reach back into this one.
 */
export function Sources({ messageId, sources }: { messageId: string; sources: Source[] | null }): JSX.Element {
  const shown = (sources ?? []).filter((s) => WEB.test(s.url));
  if (!shown.length) return "";
  return (
    <section aria-label="Sources" class="mt-3 rounded-xl border border-zinc-200 px-3 py-2 dark:border-zinc-800">
      <h3 class="text-xs font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">Sources</h3>
      <ol class="mt-1 grid gap-1 text-sm">
        {shown.map((source, i) => (
          <li
            id={`src-${messageId}-${i + 1}`}
            class="flex min-w-0 items-baseline gap-2 target:bg-yellow-100 dark:target:bg-yellow-900/40"
          >
            <span class="shrink-0 text-zinc-500 tabular-nums dark:text-zinc-400">{i + 1}.</span>
            <a
              href={source.url}
              target="_blank"
              rel="noopener noreferrer"
              title={source.snippet}
              class="min-w-0 truncate font-medium text-indigo-700 hover:underline dark:text-indigo-300"
              safe
            >
              {source.title}
            </a>
            <span class="shrink-0 text-xs text-zinc-500 dark:text-zinc-400" safe>
              {siteOf(source.url)}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
