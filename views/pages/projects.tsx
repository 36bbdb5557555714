import type { Chat, Project, User } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import type { ModelChoices } from "../../src/picker/types.ts";
import { describeSettings } from "../components/chat-settings.tsx";
import { Notice } from "../components/form.tsx";
import { modelLabel } from "../components/model-picker.tsx";
import { ProjectFiles } from "../components/project-files.tsx";
import { Section, SettingsShell } from "./account.tsx";
import { formValues, PresetForm } from "./presets.tsx";

const NO_MODEL = "Your usual model";
const PROMPT_LABEL = "Instructions (sent before each chat's own system prompt)";
const LINK_BUTTON = "rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-500";

type Common = {
  assets: AssetUrls;
  user: User;
  models: ModelChoices;
  error?: string;
  notice?: string;
};

export type ProjectsPageProps = Common & {
  projects: (Project & { chats: number })[];
  /** A refused new project's form, shown again as it was sent. */
  draft?: Record<string, unknown>;
};

/** A person's projects, each with how many chats it holds, and a form for a new one. */
export function ProjectsPage(props: ProjectsPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Projects" user={props.user} picker>
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        A project groups chats under a name. Its instructions are sent with every chat in it, before the chat's own
        system prompt; its model and parameters are where its new chats start.
      </p>
      <Section title="Your projects">
        {props.projects.length ? (
          <ul id="project-list" class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
            {props.projects.map((p) => (
              <li data-project={p.id} class="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1 py-3">
                <a href={`/projects/${p.id}`} class="min-w-0 font-medium break-words hover:underline" safe>
                  {p.name}
                </a>
                <span class="text-sm text-zinc-600 dark:text-zinc-400" safe>
                  {p.chats === 1 ? "1 chat" : `${p.chats} chats`}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="text-sm text-zinc-600 dark:text-zinc-400">You have no projects yet: make one below.</p>
        )}
      </Section>
      <Section title="New project">
        <PresetForm
          action="/projects"
          idPrefix="new"
          models={props.models}
          values={props.draft ?? {}}
          submit="Make project"
          promptLabel={PROMPT_LABEL}
          noModel={NO_MODEL}
        />
      </Section>
    </SettingsShell>
  );
}

export type ProjectPageProps = Common & {
  project: Project;
  chats: Chat[];
  /** The files sent with every chat in the project, in order. */
  files: FileInfo[];
  /** How many chats deleting the project with its chats would delete. */
  deleteCount: number;
  /** A refused edit, shown again as it was sent. */
  draft?: Record<string, unknown>;
};

/**
 * One project: a new chat in it, its instructions and defaults, its files, a search of its
 * chats, its chats newest first, Edit, and Delete, which asks what becomes of its chats.
 */
export function ProjectPage(props: ProjectPageProps): JSX.Element {
  const { project, chats } = props;
  const model = project.model ? props.models.models.find((m) => m.id === project.model) : undefined;
  const defaults = [
    project.model ? (model ? modelLabel(model) : project.model) : NO_MODEL,
    ...describeSettings({ ...project, systemPrompt: null }),
  ].join(" · ");
  return (
    <SettingsShell assets={props.assets} title={project.name} user={props.user} picker>
      <Notice error={props.error} notice={props.notice} />
      <div class="flex flex-wrap items-center gap-3">
        <a href={`/?project=${project.id}`} class={LINK_BUTTON}>
          New chat in this project
        </a>
        <a href="/projects" class="text-sm hover:underline">
          All projects
        </a>
      </div>
      <Section title="Instructions">
        {project.systemPrompt ? (
          <p id="project-instructions" class="text-sm whitespace-pre-wrap" safe>
            {project.systemPrompt}
          </p>
        ) : (
          <p class="text-sm text-zinc-600 dark:text-zinc-400">None yet: add some under Edit below.</p>
        )}
        <p class="text-sm text-zinc-600 dark:text-zinc-400" safe>
          {`New chats start with: ${defaults}`}
        </p>
      </Section>
      <Section title="Files" id="files">
        <ProjectFiles projectId={project.id} files={props.files} />
      </Section>
      <Section title={chats.length === 1 ? "1 chat" : `${chats.length} chats`}>
        <search class="block">
          <input
            type="search"
            name="q"
            maxlength="200"
            autocomplete="off"
            placeholder="Search this project's chats"
            aria-label="Search this project's chats"
            aria-controls="project-search-results"
            hx-get={`/search?project=${project.id}`}
            hx-trigger="input changed delay:250ms, search"
            hx-target="#project-search-results"
            hx-sync="this:replace"
            class="w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 text-sm placeholder:text-zinc-400 focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950"
          />
        </search>
        <div id="project-search-results" aria-live="polite"></div>
        {chats.length ? (
          <ul id="project-chats" class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
            {chats.map((c) => (
              <li class="flex items-baseline justify-between gap-3 py-2">
                <a href={`/chats/${c.id}`} class="min-w-0 truncate text-sm hover:underline" safe>
                  {c.title || "New chat"}
                </a>
                <time
                  datetime={c.updatedAt.toISOString()}
                  class="shrink-0 text-xs text-zinc-500 dark:text-zinc-400"
                  safe
                >
                  {c.updatedAt.toISOString().slice(0, 10)}
                </time>
              </li>
            ))}
          </ul>
        ) : (
          <p class="text-sm text-zinc-600 dark:text-zinc-400">
            No chats yet. Start one above, or move one here with “Move to…” on a chat.
          </p>
        )}
      </Section>
      <Section title="Edit">
        <PresetForm
          action={`/projects/${project.id}`}
          idPrefix="project"
          models={props.models}
          values={props.draft ?? formValues(project)}
          submit="Save changes"
          promptLabel={PROMPT_LABEL}
          noModel={NO_MODEL}
        />
      </Section>
      <Section title="Delete">
        <DeleteProject project={project} count={props.deleteCount} />
      </Section>
    </SettingsShell>
  );
}

/**
 * Deleting asks what becomes of the project's chats, naming how many: kept (out of any
 * project), the harmless choice and the one focused first, or deleted with it.
 */
function DeleteProject({ project, count }: { project: Project; count: number }): JSX.Element {
  const id = "confirm-delete-project";
  const chats = count === 1 ? "1 chat" : `${count} chats`;
  const danger =
    "rounded-md bg-red-700 px-4 py-2 text-sm font-medium text-white hover:bg-red-600 dark:bg-red-600 dark:hover:bg-red-500";
  const plain =
    "rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800";
  return (
    <>
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        Its chats can be kept (outside any project) or deleted too.
      </p>
      <div>
        <button
          type="button"
          popovertarget={id}
          class="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
        >
          Delete project
        </button>
      </div>
      <div
        id={id}
        popover
        data-confirm
        role="alertdialog"
        aria-labelledby={`${id}-question`}
        aria-describedby={`${id}-detail`}
        class="m-auto w-[min(30rem,calc(100vw-2rem))] rounded-xl border border-zinc-200 bg-white p-4 text-zinc-900 shadow-xl backdrop:bg-zinc-950/30 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100"
      >
        <p id={`${id}-question`} class="font-medium" safe>
          {`Delete the project “${project.name}”?`}
        </p>
        <p id={`${id}-detail`} class="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
          {count
            ? count === 1
              ? "It holds 1 chat. Keep it (it leaves the project), or delete it too: that cannot be undone."
              : `It holds ${chats}. Keep them (they leave the project), or delete them too: that cannot be undone.`
            : "It holds no chats. This cannot be undone."}
        </p>
        <form method="post" action={`/projects/${project.id}/delete`} class="mt-4 flex flex-wrap justify-end gap-2">
          <button type="button" popovertarget={id} popovertargetaction="hide" class={plain}>
            Cancel
          </button>
          {count ? (
            <>
              <button type="submit" name="chats" value="keep" autofocus class={plain} safe>
                {`Delete project, keep ${chats}`}
              </button>
              <button type="submit" name="chats" value="delete" class={danger} safe>
                {`Delete project and ${chats}`}
              </button>
            </>
          ) : (
            <button type="submit" name="chats" value="keep" autofocus class={danger}>
              Delete project
            </button>
          )}
        </form>
      </div>
    </>
  );
}
