import { openapi } from "@elysiajs/openapi";
import type { TSchema } from "elysia";
import pkg from "../../package.json" with { type: "json" };
import { SECURE_SESSION_COOKIE, SESSION_COOKIE } from "../auth/cookie.ts";

/** Where the OpenAPI description of the JSON routes is served (public: see docs/api.md). */
export const OPENAPI_PATH = "/openapi.json";

/**
 * The tag every route gets unless it declares its own (see app.ts), and the spec leaves out:
 * pages, htmx fragments and forms are hypermedia, not an API; docs/api.md lists them.
 * A JSON route joins the spec by declaring `detail.tags` (and a test keeps the two in step).
 */
export const PAGES = "pages";

/**
 * The spec alone, without the plugin's browsing page: Scalar and Swagger UI both load their
 * scripts from a CDN and run inline ones, which an offline install cannot fetch and the
 * Content-Security-Policy refuses.
 */
export function openapiSpec() {
  return openapi({
    provider: null,
    specPath: OPENAPI_PATH,
    // The plugin takes a path with a dot for a static file; ours are JSON downloads.
    exclude: { staticFile: false, tags: [PAGES] },
    documentation: {
      info: {
        title: "Parley",
        version: pkg.version,
        description:
          "The routes of a Parley server that answer JSON. The pages, htmx fragments and the WebSocket are listed in docs/api.md (HTTP routes and WebSocket messages).",
      },
      tags: [
        {
          name: "health",
          description: "For load balancers, container health checks and monitoring; no session needed.",
        },
        { name: "export", description: "Your chats as files; a session cookie is needed." },
        { name: "app", description: "What browsers fetch to install Parley as an app; no session needed." },
      ],
      components: {
        securitySchemes: {
          session: {
            type: "apiKey",
            in: "cookie",
            name: SESSION_COOKIE,
            description: `Set by POST /signin; named ${SECURE_SESSION_COOKIE} when the site is served over https. Without it a GET answers 303 to /signin.`,
          },
        },
      },
    },
  });
}

/** A response body for `detail.responses`: a TypeBox schema is a JSON Schema, which the OpenAPI types do not recognise. */
export function jsonContent(schema: TSchema) {
  return { "application/json": { schema: schema as Record<never, never> } };
}
