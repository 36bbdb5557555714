/**
 * The database's tables, one file per feature under schema/ (drizzle.config.ts reads this one):
 * import tables and types from here.
 */
export * from "./schema/accounts.ts";
export * from "./schema/chats.ts";
// The column helpers stay with the table files; the value sets stored as text are for everyone.
export { type PdfEngine, pdfEngines, type ReasoningEffort, reasoningEfforts } from "./schema/columns.ts";
export * from "./schema/files.ts";
export * from "./schema/sharing.ts";
export * from "./schema/teams.ts";
export * from "./schema/tools.ts";
