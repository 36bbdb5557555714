import type { FileInfo } from "../../src/files/types.ts";
import { fileSize, MAX_PROJECT_FILES } from "../../src/limits.ts";
import { ACCEPT } from "./composer.tsx";

/** What a file is, in a word, as the list names it. */
export const fileKind = (file: Pick<FileInfo, "type">) =>
  file.type.startsWith("image/") ? "Image" : file.type === "application/pdf" ? "PDF" : "Text";

const BUTTON =
  "rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500";

/**
 * A project's Files section: what is sent with every chat in the project, each with Remove, and
 * an upload form. Plain forms (multipart, redirect back), which htmx turns into swaps of this
 * section alone; `focus` (a swap) puts the focus on what was done or refused, so a keyboard is
 * not left on a button that is gone.
 */
export function ProjectFiles(props: {
  projectId: string;
  files: FileInfo[];
  error?: string;
  notice?: string;
  focus?: boolean;
}): JSX.Element {
  const { projectId, files } = props;
  const action = `/projects/${projectId}/files`;
  const said = props.error ?? props.notice;
  return (
    <div id="project-files" class="flex flex-col gap-3">
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        {`Sent with every chat in this project, after its instructions, as far as the model's context allows: those that do not fit are left out, the last first, and the chat says which. Images, PDFs and text files; at most ${MAX_PROJECT_FILES}.`}
      </p>
      {said ? (
        <p
          role={props.error ? "alert" : "status"}
          tabindex="-1"
          {...(props.focus ? { autofocus: true } : {})}
          class={
            props.error
              ? "rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
              : "rounded-md border border-emerald-300 bg-emerald-50 px-3 py-2 text-sm text-emerald-900 dark:border-emerald-800 dark:bg-emerald-950 dark:text-emerald-200"
          }
          safe
        >
          {said}
        </p>
      ) : (
        ""
      )}
      {files.length ? (
        <ul
          id="project-file-list"
          aria-label="The project's files"
          class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800"
        >
          {files.map((file) => (
            <li data-file={file.id} class="flex items-center gap-3 py-2">
              <span class="w-12 shrink-0 font-mono text-xs text-zinc-500 dark:text-zinc-400">{fileKind(file)}</span>
              <a
                href={`/files/${file.id}`}
                download={file.name}
                class="min-w-0 flex-1 truncate text-sm hover:underline"
                safe
              >
                {file.name}
              </a>
              <span class="shrink-0 text-xs text-zinc-500 dark:text-zinc-400" safe>
                {fileSize(file.size)}
              </span>
              <form
                method="post"
                action={`${action}/${file.id}/delete`}
                hx-post={`${action}/${file.id}/delete`}
                hx-target="#project-files"
                hx-swap="outerHTML"
                class="shrink-0"
              >
                <button
                  type="submit"
                  class="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
                >
                  Remove<span class="sr-only" safe>{` “${file.name}” from the project`}</span>
                </button>
              </form>
            </li>
          ))}
        </ul>
      ) : (
        <p class="text-sm text-zinc-600 dark:text-zinc-400">No files yet.</p>
      )}
      {files.length < MAX_PROJECT_FILES ? (
        <form
          method="post"
          action={action}
          enctype="multipart/form-data"
          hx-post={action}
          hx-encoding="multipart/form-data"
          hx-target="#project-files"
          hx-swap="outerHTML"
          hx-disabled-elt="find button"
          class="flex flex-wrap items-center gap-2"
        >
          <label for="project-file-input" class="sr-only">
            Files to add to the project
          </label>
          <input
            id="project-file-input"
            type="file"
            name="file"
            multiple
            required
            accept={ACCEPT}
            class="min-w-0 flex-1 text-sm file:mr-3 file:rounded-md file:border file:border-zinc-300 file:bg-white file:px-3 file:py-1.5 file:text-sm file:font-medium hover:file:bg-zinc-100 dark:file:border-zinc-700 dark:file:bg-zinc-900 dark:file:text-zinc-100 dark:hover:file:bg-zinc-800"
          />
          <button type="submit" class={BUTTON}>
            Add files
          </button>
        </form>
      ) : (
        <p class="text-sm text-zinc-600 dark:text-zinc-400">
          {`The project holds ${MAX_PROJECT_FILES} files, the most it can: remove one to add another.`}
        </p>
      )}
    </div>
  );
}
