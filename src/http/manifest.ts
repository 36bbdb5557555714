import { Elysia } from "elysia";
import { THEME_COLORS } from "../../views/layout.tsx";
import type { AssetUrls } from "./assets.ts";

/** What a browser needs to install Parley as an app; icons by their hashed URLs. */
export function webManifest(urls: AssetUrls) {
  return {
    id: "/",
    name: "Parley",
    short_name: "Parley",
    description: "Chat with AI models on your own server.",
    start_url: "/",
    scope: "/",
    display: "standalone",
    // A manifest has one colour for both schemes; the layout's theme-color tags pick per scheme.
    background_color: THEME_COLORS.light,
    theme_color: THEME_COLORS.light,
    icons: [
      { src: urls["icon.svg"], sizes: "any", type: "image/svg+xml", purpose: "any" },
      { src: urls["icon-192.png"], sizes: "192x192", type: "image/png", purpose: "any" },
      { src: urls["icon-512.png"], sizes: "512x512", type: "image/png", purpose: "any" },
      { src: urls["icon-maskable-512.png"], sizes: "512x512", type: "image/png", purpose: "maskable" },
    ],
  };
}

/**
 * GET /manifest.webmanifest, at the fixed URL browsers look for. Public: browsers fetch it
 * without cookies. Revalidated on every use (its icon URLs change with their content).
 */
export function manifestRoutes(urls: AssetUrls) {
  const body = JSON.stringify(webManifest(urls));
  const etag = `"${new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12)}"`;
  return new Elysia({ name: "manifest" }).get(
    "/manifest.webmanifest",
    ({ request }) => {
      const headers = { "content-type": "application/manifest+json", "cache-control": "no-cache", etag };
      if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
      return new Response(body, { headers });
    },
    {
      detail: {
        tags: ["app"],
        summary: "The web app manifest",
        description:
          "Name, colours and icons (hashed /assets/ URLs) for Add to Home Screen; 304 to a matching If-None-Match.",
        responses: {
          200: { description: "The manifest.", content: { "application/manifest+json": {} } },
          304: { description: "Not changed since the ETag given." },
        },
      },
    },
  );
}
