/* What the share service hands to the views: here, so views need not import the service. */
import type { Share } from "../db/schema.ts";

/** What a list of links shows: no messages, only how many. */
export type ShareSummary = Pick<Share, "id" | "chatId" | "title" | "createdAt"> & { messageCount: number };
