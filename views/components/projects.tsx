import type { Project } from "../../src/db/schema.ts";
import type { ProjectGroup } from "../../src/projects/types.ts";
import { describeSettings } from "./chat-settings.tsx";

/** A project as the views need it to name it. */
type Named = Pick<Project, "id" | "name">;

const ITEM =
  "flex items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-zinc-200 max-md:min-h-11 aria-[current=page]:bg-zinc-200 dark:hover:bg-zinc-800 dark:aria-[current=page]:bg-zinc-800";

/**
 * The sidebar's projects, above the chats outside any: each a disclosure group with its newest
 * few chats, a link to all of them and a new chat in it. Pushed to every tab with the chat list
 * (chat/sidebar.ts); app.js keeps closed the groups this browser closed.
 */
export function ProjectGroups({ groups, oob }: { groups: ProjectGroup[]; oob?: boolean }): JSX.Element {
  return (
    <section
      id="project-groups"
      hx-swap-oob={oob ? "true" : undefined}
      aria-labelledby="project-groups-heading"
      class="max-h-[45%] shrink-0 overflow-y-auto px-2 pb-1"
    >
      <div class="flex items-center justify-between px-2 py-1">
        <h2 id="project-groups-heading" class="text-xs font-semibold text-zinc-500 uppercase dark:text-zinc-400">
          Projects
        </h2>
        <a href="/projects" class="text-xs text-indigo-700 hover:underline dark:text-indigo-400">
          {groups.length ? "All projects" : "New project"}
        </a>
      </div>
      {groups.map((g) => (
        <details open data-project-group={g.id} class="group/project">
          <summary class="flex cursor-pointer items-center gap-1 rounded-md px-2 py-1 text-sm font-medium hover:bg-zinc-200 max-md:min-h-11 dark:hover:bg-zinc-800">
            <span aria-hidden="true" class="text-zinc-400 transition-transform group-open/project:rotate-90">
              ›
            </span>
            <span class="min-w-0 flex-1 truncate" safe>
              {g.name}
            </span>
            <span class="text-xs font-normal text-zinc-500 dark:text-zinc-400" safe>
              {String(g.total)}
            </span>
          </summary>
          <ul class="space-y-0.5 pl-3">
            {g.chats.map((c) => (
              <li id={`project-chat-${c.id}`} class="group/item flex items-center">
                <a href={`/chats/${c.id}`} class={`${ITEM} min-w-0 flex-1`}>
                  <span class="min-w-0 flex-1 truncate" safe>
                    {c.title || "New chat"}
                  </span>
                </a>
                <MoveToButton chatId={c.id} title={c.title} compact />
              </li>
            ))}
            <li class="flex flex-wrap gap-x-3 px-2 py-1 text-xs">
              <a href={`/?project=${g.id}`} class="text-indigo-700 hover:underline dark:text-indigo-400">
                New chat here
              </a>
              <a href={`/projects/${g.id}`} class="text-zinc-600 hover:underline dark:text-zinc-400">
                {g.total > g.chats.length ? `All ${g.total} chats` : "Open project"}
              </a>
            </li>
          </ul>
        </details>
      ))}
    </section>
  );
}

/**
 * "Move to…": a native popover whose list of projects is fetched each time it opens (projects
 * change in other tabs). Esc closes it and gives focus back to its button; every choice is a
 * button, so it works by keyboard alone. `compact`: the sidebar's small button beside a chat.
 */
export function MoveToButton({ chatId, title, compact }: { chatId: string; title?: string; compact?: boolean }) {
  const id = `${compact ? "move-item" : "move"}-${chatId}`;
  return (
    <>
      <button
        type="button"
        popovertarget={id}
        aria-label={compact ? `Move “${title || "New chat"}” to…` : undefined}
        title={compact ? "Move to…" : undefined}
        class={
          compact
            ? "flex size-7 shrink-0 items-center justify-center rounded-md text-zinc-500 group-hover/item:opacity-100 hover:bg-zinc-200 focus:opacity-100 max-md:size-11 md:opacity-0 dark:text-zinc-400 dark:hover:bg-zinc-800"
            : "rounded-md px-2 py-1 text-sm whitespace-nowrap hover:bg-zinc-100 dark:hover:bg-zinc-800"
        }
      >
        {compact ? (
          <svg aria-hidden="true" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" class="size-4">
            <path d="M3 7a2 2 0 0 1 2-2h4l2 2h8a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2z" />
          </svg>
        ) : (
          "Move to…"
        )}
      </button>
      <div
        id={id}
        popover
        role="dialog"
        aria-label="Move to a project"
        data-close-when-done
        hx-get={`/chats/${chatId}/move`}
        hx-trigger="toggle"
        class="m-auto max-h-[calc(100dvh-2rem)] w-[min(22rem,calc(100vw-2rem))] overflow-y-auto rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
      >
        <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
      </div>
    </>
  );
}

/** The inside of "Move to…": a button per project (the chat's own marked), and out of any. */
export function MovePanel({
  chatId,
  projectId,
  projects,
}: {
  chatId: string;
  projectId: string | null;
  projects: Named[];
}): JSX.Element {
  const choice = (to: string, label: string, current: boolean) => (
    <li>
      {/* Also a plain form: a choice made before htmx took the freshly loaded panel in still
          moves the chat (the answer, 204, leaves the page as it is; the push updates it). */}
      <form method="post" action={`/chats/${chatId}/project`} hx-post={`/chats/${chatId}/project`} hx-swap="none">
        <input type="hidden" name="project" value={to} />
        <button
          type="submit"
          disabled={current}
          aria-current={current ? "true" : undefined}
          class="flex w-full items-center justify-between gap-2 rounded-md px-3 py-2 text-left text-sm hover:bg-zinc-100 disabled:cursor-default disabled:font-semibold disabled:hover:bg-transparent dark:hover:bg-zinc-800"
        >
          <span class="min-w-0 truncate" safe>
            {label}
          </span>
          {current ? <span class="text-xs font-normal text-zinc-500 dark:text-zinc-400">here now</span> : ""}
        </button>
      </form>
    </li>
  );
  return (
    <>
      <p class="mb-2 font-medium">Move to…</p>
      <ul class="flex flex-col gap-0.5">
        {projects.map((p) => choice(p.id, p.name, p.id === projectId))}
        {choice("", "No project", projectId === null)}
      </ul>
      {projects.length ? (
        ""
      ) : (
        <p class="mt-2 text-sm text-zinc-500 dark:text-zinc-400">
          You have no projects yet.{" "}
          <a href="/projects" class="text-indigo-700 underline dark:text-indigo-400">
            Make one
          </a>
          .
        </p>
      )}
    </>
  );
}

/** Under an open chat's title: the project it is in, a link to it. Pushed to its tabs when it moves. */
export function ChatProject({ project, oob }: { project: Named | null | undefined; oob?: boolean }): JSX.Element {
  return (
    <p
      id="chat-project"
      hx-swap-oob={oob ? "true" : undefined}
      class={
        project
          ? "border-b border-zinc-200 px-3 py-1 text-xs text-zinc-600 dark:border-zinc-800 dark:text-zinc-400"
          : "hidden"
      }
    >
      {project ? (
        <>
          In the project{" "}
          <a
            href={`/projects/${project.id}`}
            class="font-medium text-indigo-700 hover:underline dark:text-indigo-400"
            safe
          >
            {project.name}
          </a>
        </>
      ) : (
        ""
      )}
    </p>
  );
}

/** Under a new chat's header, started from a project: its instructions and defaults go along. */
export function ProjectChosen({ project }: { project: Project }): JSX.Element {
  const detail = describeSettings({ ...project, systemPrompt: null })
    .map((part) => ` · ${part}`)
    .join("");
  return (
    <div class="flex min-w-0 items-baseline gap-2 border-b border-zinc-200 bg-indigo-50 px-3 py-1 text-xs text-zinc-700 dark:border-zinc-800 dark:bg-indigo-950 dark:text-zinc-300">
      <input type="hidden" name="project" value={project.id} form="composer" />
      <span class="min-w-0 truncate">
        New chat in the project <strong safe>{project.name}</strong>
        {project.systemPrompt ? " · with its instructions" : ""}
        <span safe>{detail}</span>
      </span>
      <a href="/" class="ml-auto shrink-0 underline">
        Outside the project
      </a>
    </div>
  );
}
