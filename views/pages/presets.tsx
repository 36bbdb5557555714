import { type ChatSettings, FIELDS } from "../../src/chat/settings.ts";
import type { Preset, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { MAX_SYSTEM_PROMPT_LENGTH, MAX_TEMPERATURE } from "../../src/limits.ts";
import type { ModelChoices } from "../../src/picker/types.ts";
import { describeSettings, EffortSelect, PdfEngineSelect } from "../components/chat-settings.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { Button, Notice } from "../components/form.tsx";
import { ModelPicker, modelLabel } from "../components/model-picker.tsx";
import { Section, SettingsShell } from "./account.tsx";

const INPUT =
  "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900";
const LABEL = "text-sm font-medium";

export type PresetsPageProps = {
  assets: AssetUrls;
  user: User;
  presets: Preset[];
  models: ModelChoices;
  defaultModel: string;
  error?: string;
  notice?: string;
  /** A refused form, shown again as it was sent: the new preset's (no id) or a preset's edit. */
  draft?: { id?: string; form: Record<string, unknown> };
};

/** A person's presets: start a chat from one, edit, delete, or make a new one. Plain forms, no script. */
export function PresetsPage(props: PresetsPageProps): JSX.Element {
  const newDraft = props.draft && !props.draft.id ? props.draft.form : undefined;
  return (
    <SettingsShell assets={props.assets} title="Presets" user={props.user} picker>
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        A preset is a model, a system prompt and parameters under a name. Start a chat from one here or from the Presets
        menu of a new chat; a chat's Settings can save its own as a preset.
      </p>
      <Section title="Your presets">
        {props.presets.length ? (
          <ul id="preset-list" class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
            {props.presets.map((p) => (
              <PresetItem
                preset={p}
                models={props.models}
                draft={props.draft?.id === p.id ? props.draft.form : undefined}
              />
            ))}
          </ul>
        ) : (
          <p class="text-sm text-zinc-600 dark:text-zinc-400">You have no presets yet: make one below.</p>
        )}
      </Section>
      <Section title="New preset">
        <PresetForm
          action="/presets"
          idPrefix="new"
          models={props.models}
          values={newDraft ?? { model: props.defaultModel }}
          submit="Save preset"
        />
      </Section>
    </SettingsShell>
  );
}

function PresetItem(props: { preset: Preset; models: ModelChoices; draft?: Record<string, unknown> }) {
  const { preset, models, draft } = props;
  const model = models.models.find((m) => m.id === preset.model);
  const parts = describeSettings(preset);
  return (
    <li data-preset={preset.id} class="flex flex-col gap-2 py-3">
      <div class="flex flex-wrap items-baseline justify-between gap-x-3 gap-y-1">
        <h3 class="min-w-0 font-medium break-words" safe>
          {preset.name}
        </h3>
        <a
          href={`/?preset=${preset.id}`}
          class="rounded-md bg-indigo-600 px-3 py-1 text-sm font-medium text-white hover:bg-indigo-500"
        >
          Start a chat
        </a>
      </div>
      <p class="text-sm text-zinc-600 dark:text-zinc-400" safe>
        {[model ? modelLabel(model) : preset.model, ...parts].join(" · ")}
      </p>
      {preset.systemPrompt ? (
        <p class="line-clamp-2 text-sm text-zinc-500 italic dark:text-zinc-400" safe>
          {preset.systemPrompt}
        </p>
      ) : (
        ""
      )}
      <div class="flex flex-wrap items-start gap-2">
        <details open={draft !== undefined} class="min-w-0 flex-1">
          <summary class="w-fit cursor-pointer rounded-md px-2 py-1 text-sm hover:bg-zinc-100 dark:hover:bg-zinc-800">
            Edit
          </summary>
          <div class="mt-2">
            <PresetForm
              action={`/presets/${preset.id}`}
              idPrefix={`preset-${preset.id}`}
              models={models}
              values={draft ?? formValues(preset)}
              submit="Save changes"
            />
          </div>
        </details>
        <ConfirmButton
          id={`confirm-delete-preset-${preset.id}`}
          button="Delete"
          buttonClass="rounded-md px-2 py-1 text-sm text-red-700 hover:bg-red-50 dark:text-red-400 dark:hover:bg-red-950"
          question={`Delete the preset “${preset.name}”?`}
          detail="This cannot be undone."
          confirm="Delete preset"
          post={`/presets/${preset.id}/delete`}
        />
      </div>
    </li>
  );
}

/** A preset (or a project) as its form's fields. */
export function formValues(p: ChatSettings & { name: string; model: string | null }): Record<string, unknown> {
  return {
    name: p.name,
    model: p.model ?? "",
    [FIELDS.systemPrompt]: p.systemPrompt ?? "",
    [FIELDS.temperature]: p.temperature === null ? "" : String(p.temperature),
    [FIELDS.maxTokens]: p.maxTokens === null ? "" : String(p.maxTokens),
    [FIELDS.reasoningEffort]: p.reasoningEffort ?? "",
    [FIELDS.pdfEngine]: p.pdfEngine ?? "",
  };
}

/** A preset's form; a project's too (src/projects/), whose prompt is its instructions and whose model may be none. */
export function PresetForm(props: {
  action: string;
  idPrefix: string;
  models: ModelChoices;
  values: Record<string, unknown>;
  submit: string;
  /** "System prompt" unless said. */
  promptLabel?: string;
  /** The words of a first "no model" choice, when the model is optional. */
  noModel?: string;
}): JSX.Element {
  const value = (name: string) => {
    const v = props.values[name];
    return typeof v === "string" ? v : "";
  };
  const id = (name: string) => `${props.idPrefix}-${name}`;
  const selected = value("model");
  return (
    <form method="post" action={props.action} class="flex flex-col gap-3">
      <div class="grid grid-cols-1 gap-3 sm:grid-cols-2">
        <div class="flex flex-col gap-1">
          <label for={id("name")} class={LABEL}>
            Name
          </label>
          <input id={id("name")} name="name" required maxlength="100" value={value("name")} class={INPUT} />
        </div>
        <ModelPicker
          id={id("model")}
          choices={props.models}
          selected={selected}
          labelClass={LABEL}
          boxClass={INPUT}
          class="flex flex-col gap-1"
          none={props.noModel}
        />
      </div>
      <div class="flex flex-col gap-1">
        <label for={id("system-prompt")} class={LABEL} safe>
          {props.promptLabel ?? "System prompt"}
        </label>
        <textarea
          id={id("system-prompt")}
          name={FIELDS.systemPrompt}
          rows="4"
          maxlength={String(MAX_SYSTEM_PROMPT_LENGTH)}
          class={`${INPUT} resize-y`}
          safe
        >
          {value(FIELDS.systemPrompt)}
        </textarea>
      </div>
      <div class="grid grid-cols-1 gap-3 sm:grid-cols-3">
        <div class="flex flex-col gap-1">
          <label for={id("temperature")} class={LABEL}>
            Temperature
          </label>
          <input
            id={id("temperature")}
            name={FIELDS.temperature}
            type="number"
            min="0"
            max={String(MAX_TEMPERATURE)}
            step="any"
            inputmode="decimal"
            placeholder="default"
            value={value(FIELDS.temperature)}
            class={INPUT}
          />
        </div>
        <div class="flex flex-col gap-1">
          <label for={id("max-tokens")} class={LABEL}>
            Max tokens
          </label>
          <input
            id={id("max-tokens")}
            name={FIELDS.maxTokens}
            type="number"
            min="1"
            step="1"
            inputmode="numeric"
            placeholder="default"
            value={value(FIELDS.maxTokens)}
            class={INPUT}
          />
        </div>
        <div class="flex flex-col gap-1">
          <label for={id("reasoning-effort")} class={LABEL}>
            Reasoning effort
          </label>
          <EffortSelect id={id("reasoning-effort")} value={value(FIELDS.reasoningEffort)} />
        </div>
        <div class="flex flex-col gap-1 sm:col-span-3">
          <label for={id("pdf-engine")} class={LABEL}>
            Reading PDFs
          </label>
          <PdfEngineSelect id={id("pdf-engine")} value={value(FIELDS.pdfEngine)} />
        </div>
      </div>
      <p class="text-xs text-zinc-500 dark:text-zinc-400">
        Empty means the model's default. Not every model takes every parameter: Parley says so when you save.
      </p>
      <div>
        <Button label={props.submit} />
      </div>
    </form>
  );
}
