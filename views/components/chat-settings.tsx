import { type ChatSettings, FIELDS, readsPdfs, supports } from "../../src/chat/settings.ts";
import type { Chat, PdfEngine, Preset } from "../../src/db/schema.ts";
import { MAX_SYSTEM_PROMPT_LENGTH, MAX_TEMPERATURE } from "../../src/limits.ts";
import type { Model } from "../../src/llm/openrouter.ts";
import { PanelButton } from "./popover.tsx";

const INPUT =
  "w-full rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-950";
const LABEL = "text-sm font-medium";
const HINT = "text-xs text-zinc-500 dark:text-zinc-400";
const PRIMARY = "rounded-md bg-indigo-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-500";

/** "System prompt · temperature 0.7 · at most 1,000 tokens · reasoning effort high": what is set. */
export function describeSettings(s: ChatSettings): string[] {
  const parts: string[] = [];
  if (s.systemPrompt) parts.push("System prompt");
  if (s.temperature !== null) parts.push(`temperature ${s.temperature}`);
  if (s.maxTokens !== null) parts.push(`at most ${s.maxTokens.toLocaleString("en")} tokens`);
  if (s.reasoningEffort) parts.push(`reasoning effort ${s.reasoningEffort}`);
  if (s.pdfEngine === "ocr") parts.push("PDFs by OCR");
  if (s.pdfEngine === "native") parts.push("PDFs read by the model");
  return parts;
}

/** How PDFs can be read, as the settings offer it; text extraction is the default (stored as null). */
const PDF_ENGINES: { value: PdfEngine; label: string }[] = [
  { value: "text", label: "Text extraction (free)" },
  { value: "ocr", label: "OCR for scanned PDFs (paid)" },
  { value: "native", label: "The model reads the PDF itself" },
];

/** "Settings" in the chat's header: a native popover whose form is loaded fresh each time it opens (the model may have changed). */
export function SettingsButton({ chatId }: { chatId: string }): JSX.Element {
  return (
    <PanelButton
      id="settings-dialog"
      button="Settings"
      label="Chat settings"
      src={`/chats/${chatId}/settings`}
      fresh
      width="w-[min(32rem,calc(100vw-2rem))]"
    />
  );
}

/**
 * Under the header, when the chat has a system prompt or parameters: what they are (the prompt's
 * first words), opening the settings. Empty otherwise, so a save can fill it in.
 */
export function SettingsSummary({ chat, oob }: { chat: Chat; oob?: boolean }): JSX.Element {
  const parts = describeSettings(chat);
  return (
    <div id="chat-settings-summary" hx-swap-oob={oob ? "true" : undefined}>
      {parts.length ? (
        <button
          type="button"
          popovertarget="settings-dialog"
          class="flex w-full min-w-0 items-baseline gap-2 border-b border-zinc-200 bg-zinc-50 px-3 py-1 text-left text-xs text-zinc-600 hover:bg-zinc-100 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-400 dark:hover:bg-zinc-800"
        >
          <span class="shrink-0 font-medium" safe>
            {parts.join(" · ")}
          </span>
          {chat.systemPrompt ? (
            <span class="min-w-0 truncate italic" safe>
              {chat.systemPrompt.replace(/\s+/g, " ").slice(0, 200)}
            </span>
          ) : (
            ""
          )}
        </button>
      ) : (
        ""
      )}
    </div>
  );
}

export type SettingsPanelProps = {
  chat: Chat;
  /** The chat's model as the upstream lists it; undefined when it is not listed. */
  model?: Model;
  /** What the form showed when refused, so nothing typed is lost. */
  values?: Record<string, unknown>;
  error?: string;
  saved?: boolean;
};

/** The settings dialog's content: the chat's system prompt and the parameters its model takes, and "Save as preset". */
export function SettingsPanel({ chat, model, values, error, saved }: SettingsPanelProps): JSX.Element {
  const can = supports(model);
  const modelName = model?.name ?? chat.model;
  const shown = (key: keyof typeof FIELDS, stored: string | number | null) => {
    const typed = values?.[FIELDS[key]];
    return typeof typed === "string" ? typed : stored === null ? "" : String(stored);
  };
  const effort = shown("reasoningEffort", chat.reasoningEffort);
  const pdf = shown("pdfEngine", chat.pdfEngine) || "text";
  // A model that cannot read PDFs is not offered its own reading, unless the chat has it already
  // (then saving says why it cannot stay, rather than the form quietly showing another choice).
  const pdfChoices = PDF_ENGINES.filter((e) => e.value !== "native" || readsPdfs(model) || pdf === "native");
  const missing = [
    can.temperature ? "" : "temperature",
    can.maxTokens ? "" : "max tokens",
    can.reasoning ? "" : "reasoning effort",
  ].filter(Boolean);
  return (
    <div id="settings-panel" class="flex flex-col gap-4">
      <div class="flex items-start justify-between gap-2">
        <h2 class="font-semibold">Chat settings</h2>
        <button
          type="button"
          popovertarget="settings-dialog"
          popovertargetaction="hide"
          aria-label="Close"
          class="-mt-1 rounded-md px-2 py-0.5 text-zinc-500 dark:text-zinc-400 hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          ✕
        </button>
      </div>
      <form
        hx-post={`/chats/${chat.id}/settings`}
        hx-target="#settings-panel"
        hx-swap="outerHTML"
        class="flex flex-col gap-3"
      >
        <div class="flex flex-col gap-1">
          <label for="settings-system-prompt" class={LABEL}>
            System prompt
          </label>
          <textarea
            id="settings-system-prompt"
            name={FIELDS.systemPrompt}
            rows="5"
            maxlength={String(MAX_SYSTEM_PROMPT_LENGTH)}
            placeholder="Instructions the model reads before the conversation, e.g. “Answer briefly, in French.”"
            class={`${INPUT} resize-y`}
            safe
          >
            {shown("systemPrompt", chat.systemPrompt)}
          </textarea>
        </div>
        <div class="grid grid-cols-1 gap-3 sm:grid-cols-3">
          {can.temperature ? (
            <div class="flex flex-col gap-1">
              <label for="settings-temperature" class={LABEL}>
                Temperature
              </label>
              <input
                id="settings-temperature"
                name={FIELDS.temperature}
                type="number"
                min="0"
                max={String(MAX_TEMPERATURE)}
                step="any"
                inputmode="decimal"
                placeholder="default"
                value={shown("temperature", chat.temperature)}
                class={INPUT}
              />
            </div>
          ) : (
            ""
          )}
          {can.maxTokens ? (
            <div class="flex flex-col gap-1">
              <label for="settings-max-tokens" class={LABEL}>
                Max tokens
              </label>
              <input
                id="settings-max-tokens"
                name={FIELDS.maxTokens}
                type="number"
                min="1"
                max={model?.contextLength ? String(model.contextLength) : undefined}
                step="1"
                inputmode="numeric"
                placeholder="default"
                value={shown("maxTokens", chat.maxTokens)}
                class={INPUT}
              />
            </div>
          ) : (
            ""
          )}
          {can.reasoning ? (
            <div class="flex flex-col gap-1">
              <label for="settings-reasoning-effort" class={LABEL}>
                Reasoning effort
              </label>
              <EffortSelect id="settings-reasoning-effort" value={effort} />
            </div>
          ) : (
            ""
          )}
        </div>
        <div class="flex flex-col gap-1">
          <label for="settings-pdf-engine" class={LABEL}>
            Reading PDFs
          </label>
          <PdfEngineSelect id="settings-pdf-engine" value={pdf} choices={pdfChoices} />
          <p class={HINT}>
            OCR reads scanned pages (OpenRouter charges per page). Text extraction and OCR read a PDF once: later
            answers reuse what they read.
          </p>
        </div>
        <p class={HINT} safe>
          {`Empty means the model's default. Temperature from 0 (focused) to ${MAX_TEMPERATURE} (varied).${
            missing.length ? ` ${modelName} takes no ${missing.join(" or ")}.` : ""
          }`}
        </p>
        <div class="flex flex-wrap items-center gap-3">
          <button type="submit" class={PRIMARY}>
            Save
          </button>
          <FormStatus error={error} notice={saved ? "Saved: the next answer uses these settings." : undefined} />
        </div>
      </form>
      <form
        hx-post={`/chats/${chat.id}/preset`}
        hx-target="#preset-status"
        hx-swap="outerHTML"
        class="flex flex-col gap-1 border-t border-zinc-200 pt-3 dark:border-zinc-800"
      >
        <label for="preset-name" class={LABEL}>
          Save as a preset
        </label>
        <div class="flex gap-2">
          <input
            id="preset-name"
            name="name"
            required
            maxlength="100"
            placeholder="A name, e.g. “Terse French tutor”"
            class={`${INPUT} min-w-0 flex-1`}
          />
          <button
            type="submit"
            class="shrink-0 rounded-md border border-zinc-300 px-3 py-1.5 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            Save preset
          </button>
        </div>
        <p class={HINT}>The chat's model and its saved settings, to start new chats from.</p>
        <PresetStatus />
      </form>
      <p class="border-t border-zinc-200 pt-3 text-sm dark:border-zinc-800">
        <a href={`/chats/${chat.id}/tools`} class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
          Tools…
        </a>{" "}
        <span class={HINT}>the MCP servers whose tools this chat's answers may call.</span>
      </p>
    </div>
  );
}

/** The reasoning effort picker; empty is the model's default. */
export function EffortSelect({ id, value }: { id: string; value: string }): JSX.Element {
  return (
    <select id={id} name={FIELDS.reasoningEffort} class={INPUT}>
      <option value="" selected={value === ""}>
        default
      </option>
      {(["low", "medium", "high"] as const).map((e) => (
        <option value={e} selected={value === e}>
          {e}
        </option>
      ))}
    </select>
  );
}

/** How PDFs are read; text extraction is the default. `choices` leaves out what the model cannot do. */
export function PdfEngineSelect({
  id,
  value,
  choices = PDF_ENGINES,
}: {
  id: string;
  value: string;
  choices?: typeof PDF_ENGINES;
}): JSX.Element {
  return (
    <select id={id} name={FIELDS.pdfEngine} class={INPUT}>
      {choices.map((e) => (
        <option value={e.value} selected={(value || "text") === e.value} safe>
          {e.label}
        </option>
      ))}
    </select>
  );
}

/** A form's outcome beside its button: a refusal (read out at once) or a confirmation. */
function FormStatus({ error, notice }: { error?: string; notice?: string }): JSX.Element {
  if (error) {
    return (
      <p role="alert" class="text-sm text-red-700 dark:text-red-400" safe>
        {error}
      </p>
    );
  }
  return (
    <p role="status" class="text-sm text-emerald-700 dark:text-emerald-400" safe>
      {notice ?? ""}
    </p>
  );
}

/** What "Save as a preset" did: the preset saved (with a way to see it), or why not. */
export function PresetStatus({ preset, error }: { preset?: Preset; error?: string }): JSX.Element {
  return (
    <div id="preset-status" class="text-sm">
      {error ? (
        <p role="alert" class="text-red-700 dark:text-red-400" safe>
          {error}
        </p>
      ) : preset ? (
        <p role="status" class="text-emerald-700 dark:text-emerald-400">
          Saved as the preset <strong safe>{preset.name}</strong>.{" "}
          <a href="/presets" class="underline">
            Your presets
          </a>
        </p>
      ) : (
        ""
      )}
    </div>
  );
}
