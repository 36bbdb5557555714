import type { ApiKey } from "../db/schema.ts";

/** A personal API key as its owner's list shows it: never its hash. */
export type KeySummary = Pick<ApiKey, "id" | "name" | "prefix" | "createdAt" | "lastUsedAt">;
