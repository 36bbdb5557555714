import { MAX_IMPORT_BYTES, megabytes } from "../../src/limits.ts";
import { Button } from "./form.tsx";

const menuItem = "rounded px-3 py-1.5 text-sm whitespace-nowrap hover:bg-zinc-100 dark:hover:bg-zinc-800";

/** The chat header's Export menu: the chat as a Markdown or a JSON download. */
export function ExportMenu({ chatId }: { chatId: string }): JSX.Element {
  return (
    <details class="relative">
      <summary class="cursor-pointer list-none rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
        Export
      </summary>
      <div class="absolute right-0 z-10 mt-1 flex flex-col rounded-md border border-zinc-200 bg-white p-1 shadow-lg dark:border-zinc-700 dark:bg-zinc-900">
        <a href={`/chats/${chatId}/export.md`} download="" class={menuItem}>
          Markdown
        </a>
        <a href={`/chats/${chatId}/export.json`} download="" class={menuItem}>
          JSON
        </a>
      </div>
    </details>
  );
}

/** Export all chats, and the import form: on the account page and the import page. A plain form, no script. */
export function TransferForms(): JSX.Element {
  return (
    <div class="flex flex-col gap-5">
      <div class="flex flex-col items-start gap-2">
        <p class="text-sm text-zinc-600 dark:text-zinc-400">
          All your chats as one JSON file, which Parley can import again. Each chat's Export menu gives it alone, as
          Markdown or JSON.
        </p>
        <a
          href="/account/export.json"
          download=""
          class="rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Export all chats
        </a>
      </div>
      <form method="post" action="/account/import" enctype="multipart/form-data" class="flex flex-col gap-4">
        <div class="flex flex-col gap-1">
          <label for="import-file" class="text-sm font-medium">
            File to import
          </label>
          <input
            id="import-file"
            name="file"
            type="file"
            accept=".json,application/json"
            required
            aria-describedby="import-file-hint"
            class="rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm file:mr-3 file:rounded file:border-0 file:bg-zinc-100 file:px-3 file:py-1 file:text-sm file:font-medium dark:border-zinc-700 dark:bg-zinc-900 dark:file:bg-zinc-800 dark:file:text-zinc-100"
          />
          <p id="import-file-hint" class="text-xs text-zinc-500 dark:text-zinc-400" safe>
            {`A Parley export, or conversations.json from ChatGPT's data export; at most ${megabytes(MAX_IMPORT_BYTES)}. The chats are added to yours; a file with any problem imports nothing.`}
          </p>
        </div>
        <div>
          <Button label="Import" />
        </div>
      </form>
    </div>
  );
}
