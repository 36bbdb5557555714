import { Elysia } from "elysia";
import { SearchResults } from "../../views/components/search.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { SearchService } from "./service.ts";

/** The search box asks as the person types (htmx, debounced); the answer is the results list. */
export function searchRoutes(search: SearchService, auth: AuthService) {
  return new Elysia({ name: "search-routes" }).use(requireSignIn(auth)).get("/search", async ({ me, query }) => {
    const q = typeof query.q === "string" ? query.q.trim() : "";
    // ?project=<id>: only that project's chats (its page's search box); another person's finds nothing.
    return SearchResults({ query: q, hits: q ? await search.search(me!.user.id, q, query.project) : [] });
  });
}
