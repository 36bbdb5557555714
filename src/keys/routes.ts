import { Elysia } from "elysia";
import { ApiKeys } from "../../views/components/api-keys.tsx";
import { clientAddress } from "../auth/cookie.ts";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { Config } from "../config.ts";
import { pageWithStatus } from "../http/page.ts";
import { KeyError, type KeyService } from "./service.ts";

/**
 * The account page's API keys section, as htmx fragments: the list, a new key (its token in
 * this one answer), a revocation. The API the keys open is in src/api/.
 */
export function keyRoutes(keys: KeyService, auth: AuthService, config: Config) {
  const apiBase = (request: Request) => `${config.publicUrl ?? new URL(request.url).origin}/v1`;
  return new Elysia({ name: "key-routes" })
    .use(requireSignIn(auth))
    .get("/account/keys", async ({ me, request, redirect }) => {
      // A fragment of the account page; a browser asking for it goes to that page.
      if (!request.headers.get("hx-request")) return redirect("/account", 303);
      return ApiKeys({ keys: await keys.list(me!.user.id), apiBase: apiBase(request) });
    })
    .post("/account/keys", async ({ me, body, request, server }) => {
      const name = (body as Record<string, unknown> | null)?.name;
      try {
        const made = await keys.create(me!.user, name, clientAddress(request, server, config));
        const list = await keys.list(me!.user.id);
        return ApiKeys({ keys: list, apiBase: apiBase(request), fresh: { id: made.key.id, token: made.token } });
      } catch (err) {
        if (!(err instanceof KeyError)) throw err;
        const list = await keys.list(me!.user.id);
        const typed = typeof name === "string" ? name.slice(0, 200) : "";
        return pageWithStatus(
          err.status,
          await ApiKeys({ keys: list, apiBase: apiBase(request), error: err.message, name: typed }),
        );
      }
    })
    .delete("/account/keys/:id", async ({ me, params, request, server, status }) => {
      if (!(await keys.revoke(me!.user, params.id, clientAddress(request, server, config)))) {
        return status(404, "There is no such key.");
      }
      return ApiKeys({ keys: await keys.list(me!.user.id), apiBase: apiBase(request) });
    });
}
