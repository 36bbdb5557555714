import { type Chat, type PdfEngine, pdfEngines, type ReasoningEffort, reasoningEfforts } from "../db/schema.ts";
import { MAX_SYSTEM_PROMPT_LENGTH, MAX_TEMPERATURE } from "../limits.ts";
import type { AnswerParams, Model } from "../llm/openrouter.ts";

/** The bound on max tokens when the model's context length is unknown (the column is a 32-bit integer). */
const MAX_TOKENS_UNKNOWN_CONTEXT = 10_000_000;

/** How a chat's (or a preset's) answers are asked for; null is the model's default (for PDFs, text extraction). */
export type ChatSettings = Pick<Chat, "systemPrompt" | "temperature" | "maxTokens" | "reasoningEffort" | "pdfEngine">;

export const NO_SETTINGS: ChatSettings = {
  systemPrompt: null,
  temperature: null,
  maxTokens: null,
  reasoningEffort: null,
  pdfEngine: null,
};

/** A value the person typed was refused; the message says which and why. */
export class SettingsError extends Error {}

/** The form fields, by setting. */
export const FIELDS = {
  systemPrompt: "system_prompt",
  temperature: "temperature",
  maxTokens: "max_tokens",
  reasoningEffort: "reasoning_effort",
  pdfEngine: "pdf_engine",
} as const;

/** Which parameters a model takes: all of them when its list is unknown (OpenRouter ignores the rest). */
export function supports(model: Model | undefined): { temperature: boolean; maxTokens: boolean; reasoning: boolean } {
  const list = model?.supportedParameters;
  const has = (name: string) => !list || list.includes(name);
  return { temperature: has("temperature"), maxTokens: has("max_tokens"), reasoning: has("reasoning") };
}

/** Whether a model can read a PDF itself (OpenRouter's "native" engine): unknown counts as yes. */
export function readsPdfs(model: Model | undefined): boolean {
  return model?.inputModalities === undefined || model.inputModalities.includes("file");
}

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
const WHOLE = /^\d+$/;

/** A value as it is quoted back in a refusal: short, on one line. */
const quote = (value: string) => `“${value.replace(/\s+/g, " ").slice(0, 40)}”`;

/**
 * Reads settings from a form. A field left out keeps its `current` value (a model that does not
 * take a parameter shows no field for it, and the value is kept for a model that does); an empty
 * field means the model's default. A bad value throws a SettingsError, and nothing is to be saved.
 */
export function parseSettings(
  form: Record<string, unknown>,
  modelId: string,
  model: Model | undefined,
  current: ChatSettings = NO_SETTINGS,
): ChatSettings {
  const name = model?.name ?? modelId;
  const can = supports(model);
  const field = (key: keyof typeof FIELDS): string | undefined => {
    const raw = form[FIELDS[key]];
    if (raw === undefined) return undefined;
    if (typeof raw !== "string") throw new SettingsError("The settings form was sent in a shape Parley cannot read.");
    return raw;
  };
  const unsupported = (what: string) =>
    new SettingsError(`${name} does not take ${what}: leave it empty, or choose another model.`);
  const settings = { ...current };

  const prompt = field("systemPrompt");
  if (prompt !== undefined) {
    const text = prompt.replace(/\r\n?/g, "\n").replaceAll("\0", "").trim();
    if (text.length > MAX_SYSTEM_PROMPT_LENGTH) {
      throw new SettingsError(
        `That system prompt is ${text.length.toLocaleString("en")} characters long; the limit is ${MAX_SYSTEM_PROMPT_LENGTH.toLocaleString("en")}.`,
      );
    }
    settings.systemPrompt = text || null;
  }

  const temperature = field("temperature")?.trim();
  if (temperature !== undefined) {
    const value = Number(temperature);
    if (temperature && !(DECIMAL.test(temperature) && value <= MAX_TEMPERATURE)) {
      throw new SettingsError(
        `Temperature must be a number from 0 to ${MAX_TEMPERATURE}, such as 0.7 (got ${quote(temperature)}).`,
      );
    }
    if (temperature && !can.temperature) throw unsupported("a temperature");
    settings.temperature = temperature ? value : null;
  }

  const maxTokens = field("maxTokens")?.trim().replace(/[,_ ]/g, "");
  if (maxTokens !== undefined) {
    const limit = model?.contextLength ?? MAX_TOKENS_UNKNOWN_CONTEXT;
    const value = Number(maxTokens);
    if (maxTokens && !(WHOLE.test(maxTokens) && value >= 1)) {
      throw new SettingsError(`Max tokens must be a whole number of at least 1 (got ${quote(maxTokens)}).`);
    }
    if (maxTokens && value > limit) {
      throw new SettingsError(
        model?.contextLength
          ? `Max tokens can be at most ${limit.toLocaleString("en")}, the context length of ${name} (got ${value.toLocaleString("en")}).`
          : `Max tokens can be at most ${limit.toLocaleString("en")} (got ${quote(maxTokens)}).`,
      );
    }
    if (maxTokens && !can.maxTokens) throw unsupported("a maximum number of tokens");
    settings.maxTokens = maxTokens ? value : null;
  }

  const effort = field("reasoningEffort")?.trim();
  if (effort !== undefined) {
    if (effort && !reasoningEfforts.includes(effort as ReasoningEffort)) {
      throw new SettingsError(`Reasoning effort must be low, medium or high (got ${quote(effort)}).`);
    }
    if (effort && !can.reasoning) throw unsupported("a reasoning effort");
    settings.reasoningEffort = (effort || null) as ReasoningEffort | null;
  }

  const pdf = field("pdfEngine")?.trim();
  if (pdf !== undefined) {
    if (pdf && !pdfEngines.includes(pdf as PdfEngine)) {
      throw new SettingsError(
        `PDFs are read by text extraction, OCR or the model itself (“text”, “ocr” or “native”; got ${quote(pdf)}).`,
      );
    }
    if (pdf === "native" && !readsPdfs(model)) {
      throw new SettingsError(`${name} cannot read PDFs itself: choose text extraction or OCR, or another model.`);
    }
    // Text extraction is the default: stored as null, like every other default.
    settings.pdfEngine = pdf && pdf !== "text" ? (pdf as PdfEngine) : null;
  }
  return settings;
}

/** The parameters of the upstream request: those set, and only those the model takes. */
export function answerParams(settings: ChatSettings, model: Model | undefined): AnswerParams {
  const can = supports(model);
  const params: AnswerParams = {};
  if (settings.temperature !== null && can.temperature) params.temperature = settings.temperature;
  if (settings.maxTokens !== null && can.maxTokens) params.maxTokens = settings.maxTokens;
  if (settings.reasoningEffort !== null && can.reasoning) params.reasoningEffort = settings.reasoningEffort;
  return params;
}

/** Just the settings of a chat or preset row. */
export function settingsOf(row: ChatSettings): ChatSettings {
  const { systemPrompt, temperature, maxTokens, reasoningEffort, pdfEngine } = row;
  return { systemPrompt, temperature, maxTokens, reasoningEffort, pdfEngine };
}
