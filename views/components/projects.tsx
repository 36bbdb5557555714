import type { Project } from "../../src/db/schema.ts";
import { describeSettings } from "./chat-settings.tsx";

/** A project as the views need it to name it. */
type Named = Pick<Project, "id" | "name">;

/**
 * "Move to…" on a chat: opens the page's one move dialog (MoveDialog) and loads into it the list
 * of projects for this chat, fresh each time (projects change in other tabs). The dialog is a
 * native popover: Esc closes it and gives focus back to the button, Tab goes from the button into
 * it, and every choice is a button, so it works by keyboard alone. `compact`: the small button
 * beside a chat in the sidebar (app.css, .move-button), one per listed chat, so kept light: app.js
 * loads its chat's choices, named by the item it is in.
 */
export function MoveToButton(props: { chatId: string } | { compact: true }) {
  if ("compact" in props) {
    // The chat's name is said by its link just before; a title in an attribute would carry its raw "<".
    return (
      <button
        type="button"
        popovertarget="move-dialog"
        aria-label="Move this chat to…"
        title="Move to…"
        class="move-button"
      >
        ⇄
      </button>
    );
  }
  return (
    <button
      type="button"
      popovertarget="move-dialog"
      hx-get={`/chats/${props.chatId}/move`}
      hx-target="#move-dialog"
      class="rounded-md px-2 py-1 text-sm whitespace-nowrap hover:bg-zinc-100 dark:hover:bg-zinc-800"
    >
      Move to…
    </button>
  );
}

/** The one dialog every "Move to…" of the page opens; emptied as it closes (app.js), never showing another chat's choices. */
export function MoveDialog(): JSX.Element {
  return (
    <div
      id="move-dialog"
      popover
      role="dialog"
      aria-label="Move to a project"
      data-close-when-done
      class="m-auto max-h-[calc(100dvh-2rem)] w-[min(22rem,calc(100vw-2rem))] overflow-y-auto rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
    >
      <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
    </div>
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
          moves the chat (and the chat's page opens again). */}
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

/** "2 files", said of a project whose files go with its chats; nothing when it has none. */
const withFiles = (files: number | undefined) =>
  files ? ` · with its ${files === 1 ? "file" : `${files} files`}` : "";

/**
 * Under an open chat's title: the project it is in, a link to it, and whether its files go with
 * the chat. Pushed to its tabs when it moves.
 */
export function ChatProject({
  project,
  oob,
}: {
  project: (Named & { files?: number }) | null | undefined;
  oob?: boolean;
}): JSX.Element {
  return (
    <p
      id="chat-project"
      hx-swap-oob={oob ? "true" : undefined}
      data-project={project?.id}
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
          <span data-project-files safe>
            {withFiles(project.files)}
          </span>
        </>
      ) : (
        ""
      )}
    </p>
  );
}

/** Under a new chat's header, started from a project: its instructions, files and defaults go along. */
export function ProjectChosen({ project }: { project: Project & { files?: number } }): JSX.Element {
  const detail = describeSettings({ ...project, systemPrompt: null })
    .map((part) => ` · ${part}`)
    .join("");
  return (
    <div class="flex min-w-0 items-baseline gap-2 border-b border-zinc-200 bg-indigo-50 px-3 py-1 text-xs text-zinc-700 dark:border-zinc-800 dark:bg-indigo-950 dark:text-zinc-300">
      <input type="hidden" name="project" value={project.id} form="composer" />
      <span class="min-w-0 truncate">
        New chat in the project <strong safe>{project.name}</strong>
        {project.systemPrompt ? " · with its instructions" : ""}
        <span safe>{withFiles(project.files)}</span>
        <span safe>{detail}</span>
      </span>
      <a href="/" class="ml-auto shrink-0 underline">
        Outside the project
      </a>
    </div>
  );
}
