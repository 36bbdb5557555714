import type { KeySummary } from "../../src/keys/types.ts";
import { MAX_KEY_NAME } from "../../src/limits.ts";
import { ConfirmButton } from "./confirm.tsx";
import { Notice } from "./form.tsx";
import { ShownOnce } from "./shown-once.tsx";

export type ApiKeysProps = {
  keys: KeySummary[];
  /** Where the OpenAI-compatible API answers: `https://chat.example.com/v1`. */
  apiBase: string;
  /** The key just made: its token shown this once, since only its hash is kept. */
  fresh?: { id: string; token: string };
  /** A refused creation: the sentence, and the name as typed. */
  error?: string;
  name?: string;
};

/** The account page's API keys: make one (shown once, with Copy), see them all, revoke one (asked twice). */
export function ApiKeys(props: ApiKeysProps): JSX.Element {
  const fresh = props.fresh && props.keys.find((k) => k.id === props.fresh!.id);
  return (
    <div id="api-keys" class="flex flex-col gap-4">
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        A key lets an editor or a script use this Parley's models through its OpenAI-compatible API at{" "}
        <code class="break-all rounded bg-zinc-100 px-1 font-mono text-xs dark:bg-zinc-800" safe>
          {props.apiBase}
        </code>
        , under your limits. Its requests are not saved as chats.
      </p>
      {fresh && props.fresh ? (
        <div class="rounded-md border border-emerald-300 bg-emerald-50 p-3 dark:border-emerald-800 dark:bg-emerald-950">
          <ShownOnce id="api-key-new" label={`Your new key “${fresh.name}”`} value={props.fresh.token} what="key" />
        </div>
      ) : (
        ""
      )}
      <form
        hx-post="/account/keys"
        hx-target="#api-keys"
        hx-swap="outerHTML"
        class="flex flex-col gap-2 sm:flex-row sm:items-end"
      >
        <div class="flex min-w-0 flex-1 flex-col gap-1">
          <label for="api-key-name" class="text-sm font-medium">
            Key name
          </label>
          <input
            id="api-key-name"
            name="name"
            required
            maxlength={MAX_KEY_NAME}
            value={props.error ? props.name : undefined}
            placeholder="laptop editor"
            autocomplete="off"
            aria-invalid={props.error ? "true" : undefined}
            aria-describedby={props.error ? "api-key-error" : undefined}
            class="rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900"
          />
        </div>
        <div>
          <button
            type="submit"
            class="rounded-md bg-indigo-600 px-4 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            Create key
          </button>
        </div>
      </form>
      {props.error ? (
        <div id="api-key-error">
          <Notice error={props.error} />
        </div>
      ) : (
        ""
      )}
      {props.keys.length ? (
        // A revocation answers this whole fragment again, in place.
        <ul
          aria-label="Your API keys"
          hx-target="#api-keys"
          hx-swap="outerHTML"
          class="flex flex-col divide-y divide-zinc-200 text-sm dark:divide-zinc-800"
        >
          {props.keys.map((key) => (
            <KeyItem item={key} />
          ))}
        </ul>
      ) : (
        <p class="text-sm text-zinc-600 dark:text-zinc-400">You have no API keys.</p>
      )}
    </div>
  );
}

function KeyItem({ item: key }: { item: KeySummary }): JSX.Element {
  return (
    <li data-key={key.id} class="flex flex-wrap items-center justify-between gap-x-3 gap-y-1 py-2">
      <div class="flex min-w-0 flex-col">
        <span class="flex min-w-0 items-baseline gap-2">
          <strong class="truncate font-medium" safe>
            {key.name}
          </strong>
          <code class="shrink-0 font-mono text-xs text-zinc-500 dark:text-zinc-400" safe>
            {`${key.prefix}…`}
          </code>
        </span>
        <span class="text-xs text-zinc-500 dark:text-zinc-400">
          created <When at={key.createdAt} />
          {" · "}
          {key.lastUsedAt ? (
            <>
              last used <When at={key.lastUsedAt} />
            </>
          ) : (
            "Never used"
          )}
        </span>
      </div>
      <ConfirmButton
        id={`confirm-revoke-key-${key.id}`}
        button="Revoke"
        buttonClass="-mx-2 rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
        question={`Revoke the key “${key.name}”?`}
        detail="Tools using it are refused from now on. This cannot be undone."
        confirm="Revoke key"
        hxDelete={`/account/keys/${key.id}`}
      />
    </li>
  );
}

function When({ at }: { at: Date }): JSX.Element {
  return (
    <time datetime={at.toISOString()} safe>
      {at.toISOString().slice(0, 16).replace("T", " ")}
    </time>
  );
}
