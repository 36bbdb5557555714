import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { indexWaiting, searchChats, toTsquery } from "./repo.ts";
import type { SearchHit } from "./types.ts";

/** Longer input is cut: a search box holds a few words, and each one is another index lookup. */
export const MAX_QUERY_LENGTH = 200;
const RESULTS = 20;

/** Search across a person's own chats (see repo.ts). */
export function createSearchService(database: Database) {
  return {
    /** Nothing for input with no word in it; otherwise up to 20 chats, of one project if `project` names one. */
    async search(userId: string, input: unknown, project?: unknown): Promise<SearchHit[]> {
      const tsquery = typeof input === "string" ? toTsquery(input.slice(0, MAX_QUERY_LENGTH)) : undefined;
      if (!tsquery) return [];
      // A project that is not an id names no project: nothing is found, rather than everything.
      if (project !== undefined && project !== "" && !isId(project)) return [];
      // What this person's latest answers said is found even before the indexer reached it.
      await indexWaiting(database, { person: userId });
      return searchChats(database, userId, tsquery, RESULTS, isId(project) ? project : undefined);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
