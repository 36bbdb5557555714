import { actionWords } from "../../src/audit/actions.ts";
import type { AuditPage as AuditData } from "../../src/audit/types.ts";
import type { User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { Notice } from "../components/form.tsx";
import { SettingsShell } from "./account.tsx";

const input =
  "rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900";

/** What an entry's detail says, in one line (ids and reasons; never a secret, see audit/log.ts). */
function detailText(detail: Record<string, unknown> | null): string {
  if (!detail) return "";
  return Object.entries(detail)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(", ");
}

/** The admin's audit log: newest first, filtered by action and person, fifty to a page. */
export function AuditLogPage(props: {
  assets: AssetUrls;
  user: User;
  log: AuditData;
  retentionDays: number;
}): JSX.Element {
  const { log } = props;
  const older = log.older
    ? `/admin/audit?${new URLSearchParams({ ...(log.query.action ? { action: log.query.action } : {}), ...(log.query.person ? { person: log.query.person } : {}), before: log.older })}`
    : undefined;
  return (
    <SettingsShell assets={props.assets} title="Audit log" user={props.user}>
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        <span
          safe
        >{`Sign-ins, admin actions, API keys and shared links, kept for ${props.retentionDays} days (AUDIT_RETENTION_DAYS). Times are UTC. `}</span>
        <a href="/admin" class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Back to Admin
        </a>
      </p>
      <form method="get" action="/admin/audit" class="flex flex-wrap items-end gap-3">
        <div class="flex flex-col gap-1">
          <label for="audit-action" class="text-sm font-medium">
            Action
          </label>
          <select id="audit-action" name="action" class={input}>
            <option value="">Every action</option>
            {log.actions.map((a) => (
              <option value={a} selected={log.query.action === a} safe>
                {actionWords(a)}
              </option>
            ))}
          </select>
        </div>
        <div class="flex min-w-40 flex-1 flex-col gap-1">
          <label for="audit-person" class="text-sm font-medium">
            Person
          </label>
          <input
            id="audit-person"
            name="person"
            type="search"
            maxlength={60}
            value={log.query.person}
            placeholder="Part of a username"
            class={input}
          />
        </div>
        <button
          type="submit"
          class="rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Filter
        </button>
      </form>
      <Notice error={log.error} />
      {log.error ? (
        ""
      ) : log.entries.length === 0 ? (
        <p class="text-sm text-zinc-500 dark:text-zinc-400">No entries match.</p>
      ) : (
        <ol aria-label="Audit log entries" class="flex flex-col divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
          {log.entries.map((e) => (
            <li class="flex flex-col gap-0.5 py-2" id={`audit-${e.id}`} data-action={e.action}>
              <div class="flex flex-wrap items-baseline justify-between gap-x-3">
                <span>
                  <strong safe>{e.actorName ?? (e.detail?.via === "command line" ? "command line" : "—")}</strong>{" "}
                  <span safe>{actionWords(e.action)}</span>
                  {e.target ? (
                    <>
                      {": "}
                      <span class="font-medium" safe>
                        {e.target}
                      </span>
                    </>
                  ) : (
                    ""
                  )}
                </span>
                <time
                  datetime={e.createdAt.toISOString()}
                  class="text-xs text-zinc-500 tabular-nums dark:text-zinc-400"
                  safe
                >
                  {`${e.createdAt.toISOString().slice(0, 19).replace("T", " ")} UTC`}
                </time>
              </div>
              <span class="text-xs text-zinc-500 dark:text-zinc-400" safe>
                {[e.ip ? `from ${e.ip}` : "", detailText(e.detail)].filter(Boolean).join(" · ")}
              </span>
            </li>
          ))}
        </ol>
      )}
      {older ? (
        <p>
          <a href={older} class="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Older entries
          </a>
        </p>
      ) : (
        ""
      )}
    </SettingsShell>
  );
}
