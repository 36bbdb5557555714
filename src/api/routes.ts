import { Elysia } from "elysia";
import { RateLimit, tryAgainIn } from "../auth/limits.ts";
import type { Config } from "../config.ts";
import type { KeyService } from "../keys/service.ts";
import { apiError, invalid } from "./errors.ts";
import { MAX_API_BODY_BYTES, parseChatRequest } from "./request.ts";
import type { ApiService, Caller } from "./service.ts";

/** The one route that takes bodies above the app's 1 MiB (see http/body-limit.ts); it checks its own. */
export const COMPLETIONS_ROUTE = "POST /v1/chat/completions";
/** Everything under it is the bearer-only API (no cookie is read there). */
export const API_PREFIX = "/v1/";

const HOW = "send it as “Authorization: Bearer <key>” (create keys on your account page in Parley)";

/** Why a request carries no usable bearer token: the sentence for its 401. */
function missingKey(request: Request): string {
  const authorization = request.headers.get("authorization");
  if (authorization) return `The Authorization header must be “Bearer <key>”: ${HOW}.`;
  for (const header of ["x-api-key", "api-key"]) {
    if (request.headers.has(header)) return `An API key in the ${header} header is not read: ${HOW}.`;
  }
  const query = new URL(request.url).searchParams;
  if (["key", "api_key", "apikey"].some((name) => query.has(name))) {
    return `An API key in the address is not read (it would end up in logs): ${HOW}.`;
  }
  return `No API key was sent: ${HOW}.`;
}

const unauthorized = (message: string) =>
  apiError(401, message, "invalid_request_error", {
    code: "invalid_api_key",
    headers: { "www-authenticate": 'Bearer realm="parley"' },
  });

/**
 * The OpenAI-compatible API for editors and scripts: `GET /v1/models`, `POST /v1/chat/completions`.
 * Authenticated by a personal API key as a bearer token and nothing else: no cookie is read, so
 * a page elsewhere cannot make a browser spend on someone's behalf (which is why the same-origin
 * rule for cookie requests leaves /v1 alone; see http/security.ts). Every answer, refusals
 * included, is JSON in OpenAI's error shape.
 */
export function apiRoutes(api: ApiService, keys: KeyService, config: Config) {
  const perKey = new RateLimit(config.apiRequestsPerMinute, 60_000);

  /** The key's owner, or the refusal to answer with. */
  async function caller(request: Request): Promise<Caller | Response> {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (!bearer) return unauthorized(missingKey(request));
    const holder = await keys.authenticate(bearer);
    if ("refused" in holder) return unauthorized(holder.refused);
    const wait = perKey.take(holder.keyId);
    if (wait > 0) {
      return apiError(
        429,
        `This API key made ${perKey.limit} requests in the last minute, the most it may: try again ${tryAgainIn(wait)}.`,
        "rate_limit_error",
        { code: "rate_limit_exceeded", headers: { "retry-after": String(Math.ceil(wait / 1000)) } },
      );
    }
    return holder;
  }

  return new Elysia({ name: "api-routes" })
    .get("/v1/models", async ({ request }) => {
      const who = await caller(request);
      if (who instanceof Response) return who;
      return Response.json(await api.models(who), { headers: { "cache-control": "no-store" } });
    })
    .post(
      "/v1/chat/completions",
      async ({ request }) => {
        const who = await caller(request);
        if (who instanceof Response) return who;
        if (Number(request.headers.get("content-length")) > MAX_API_BODY_BYTES) {
          return apiError(
            413,
            `The request is larger than ${MAX_API_BODY_BYTES / (1024 * 1024)} MB, the most this API takes.`,
            "invalid_request_error",
            { code: "request_too_large" },
          );
        }
        const parsed = parseChatRequest(await request.text());
        if ("refused" in parsed) return invalid(parsed.refused, parsed.param);
        return api.complete(who, parsed, request.signal);
      },
      // Read by the handler, after the key is checked: nobody's body is parsed before.
      { parse: "none" },
    )
    .all("/v1/*", async ({ request }) => {
      const who = await caller(request);
      if (who instanceof Response) return who;
      return apiError(
        404,
        `There is no ${request.method} ${new URL(request.url).pathname} here: Parley's API has GET /v1/models and POST /v1/chat/completions.`,
        "invalid_request_error",
        { code: "unknown_url" },
      );
    });
}
