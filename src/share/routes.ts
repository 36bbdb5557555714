import { Elysia } from "elysia";
import { SharedLinks, SharePanel } from "../../views/components/share.tsx";
import { SharedMissing, SharedPage } from "../../views/pages/shared.tsx";
import { clientAddress } from "../auth/cookie.ts";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { Config } from "../config.ts";
import { fileResponse } from "../files/serve.ts";
import type { AssetUrls } from "../http/assets.ts";
import { pageWithStatus } from "../http/page.ts";
import type { ShareService } from "./service.ts";

const NO_SUCH_CHAT = "There is no such chat.";

/**
 * Headers of every answer under /s/, found or not. The link is the permission, so it must not
 * leave in a Referer when a reader follows a link in an answer, nor be indexed, nor be kept in a
 * cache after it is revoked.
 */
const SHARED_HEADERS = {
  "referrer-policy": "no-referrer",
  "x-robots-tag": "noindex",
  "cache-control": "no-store",
};

/**
 * The shared page, open to anyone with its link; and, for the chat's owner, publishing, listing
 * and revoking links (fragments for the share dialog and the account page).
 */
export function shareRoutes(service: ShareService, auth: AuthService, assets: AssetUrls, config: Config) {
  const { publicUrl } = config;
  const reading = new Elysia()
    .get("/s/:token", async ({ params, set }) => {
      Object.assign(set.headers, SHARED_HEADERS);
      const share = await service.open(params.token);
      // A revoked link, a deleted chat's and one never made answer the same page.
      if (!share) return pageWithStatus(404, await SharedMissing({ assets }));
      return SharedPage({ assets, share, filesAt: `/s/${params.token}/files` });
    })
    // The snapshot's own files alone, to anyone with its link, never kept in a cache (as the page).
    .get("/s/:token/files/:id", async ({ params, request, set, status }) => {
      Object.assign(set.headers, SHARED_HEADERS);
      const file = await service.file(params.token, params.id);
      if (!file) return status(404, "There is no such file.");
      return fileResponse(file, request, SHARED_HEADERS);
    });

  const owning = new Elysia()
    .use(requireSignIn(auth))
    .get("/chats/:id/shares", async ({ me, params, status }) => {
      const shares = await service.ofChat(me!.user.id, params.id);
      if (!shares) return status(404, NO_SUCH_CHAT);
      return SharePanel({ chatId: params.id, shares });
    })
    .post("/chats/:id/shares", async ({ me, params, request, server, status }) => {
      const published = await service.publish(
        { user: me!.user, ip: clientAddress(request, server, config) },
        params.id,
      );
      if (!published) return status(404, NO_SUCH_CHAT);
      if ("refused" in published) return status(409, published.refused);
      // The link as the person reaches this site, unless PUBLIC_URL says otherwise.
      const url = `${publicUrl ?? new URL(request.url).origin}/s/${published.token}`;
      const shares = (await service.ofChat(me!.user.id, params.id)) ?? [];
      return SharePanel({ chatId: params.id, shares, fresh: { id: published.share.id, url } });
    })
    .get("/shares", async ({ me, request, redirect }) => {
      // A fragment of the account page, loaded by htmx; a browser asking for it goes to that page.
      if (!request.headers.get("hx-request")) return redirect("/account", 303);
      return SharedLinks({ shares: await service.list(me!.user.id) });
    })
    // An empty answer: htmx swaps the link's row out, in the dialog and on the account page alike.
    .delete("/shares/:id", async ({ me, params, request, server, status }) =>
      (await service.revoke({ user: me!.user, ip: clientAddress(request, server, config) }, params.id))
        ? ""
        : status(404, "There is no such link."),
    );

  return new Elysia({ name: "share-routes" }).use(reading).use(owning);
}
