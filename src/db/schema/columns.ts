import { customType, doublePrecision, integer, text, timestamp, uuid } from "drizzle-orm/pg-core";

/** Column helpers every table file uses, and the value sets stored as text. */

/**
 * Ids are UUIDv7, made by the app: they sort by creation time, so "newest chats" and "a chat's
 * messages in order" page by id alone, even when two rows share a timestamp.
 */
export const id = () =>
  uuid("id")
    .primaryKey()
    .$defaultFn(() => Bun.randomUUIDv7());

export const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** How hard a reasoning model thinks, sent as OpenRouter's `reasoning: { effort }`. */
export const reasoningEfforts = ["low", "medium", "high"] as const;
export type ReasoningEffort = (typeof reasoningEfforts)[number];

/**
 * How PDFs in a chat are read (OpenRouter's file-parser engines, in Parley's words, so a renamed
 * engine upstream changes one map in src/llm/openrouter.ts, not the stored rows): "text"
 * extraction (free), "ocr" for scanned pages (paid per page), or the model reading the PDF itself
 * ("native", charged as input tokens). Null is text extraction: left unset, OpenRouter would fall
 * back to paid OCR for a model that cannot read PDFs.
 */
export const pdfEngines = ["text", "ocr", "native"] as const;
export type PdfEngine = (typeof pdfEngines)[number];

/**
 * How a chat's answers are asked for, shared by chats and presets; null means "the model's
 * default" (nothing is sent). The system prompt lives here rather than as a message: it is a
 * setting of the chat, changed at any time and applying to the next answer, not something said
 * at one point of the conversation, so it has no place in the transcript or its branches.
 */
export const generationSettings = () => ({
  systemPrompt: text("system_prompt"),
  temperature: doublePrecision("temperature"),
  maxTokens: integer("max_tokens"),
  reasoningEffort: text("reasoning_effort").$type<ReasoningEffort>(),
  pdfEngine: text("pdf_engine").$type<PdfEngine>(),
});

/** Bytes, as Postgres's bytea: sent as a Buffer, which postgres.js sends as binary (PGlite takes any Uint8Array). */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  toDriver: (bytes) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
});
