import { Elysia } from "elysia";
import { DiagramFrame } from "../../views/pages/diagram-frame.tsx";
import type { AssetUrls } from "../http/assets.ts";

/** Where the chat page's script (static/app.js) points a diagram's frame. */
export const DIAGRAM_FRAME_ROUTE = "/diagram-frame";

/**
 * The frame's own policy, in place of the page's (src/http/security.ts). Mermaid writes its SVG's
 * styles inline, which the page's policy rightly refuses; here they can do no harm: the page
 * loads this document in a frame sandboxed without allow-same-origin, so its scripts run in an
 * origin of their own and cannot reach the page, its cookies or this server's data. Scripts still
 * come only from our hashed files (no eval); nothing is fetched; only our own pages may frame it.
 */
const FRAME_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'unsafe-inline'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'self'",
].join("; ");

/** GET /diagram-frame: the document each Mermaid diagram is drawn in. */
export function diagramRoutes(assets: AssetUrls) {
  return new Elysia({ name: "diagrams" }).get(DIAGRAM_FRAME_ROUTE, async ({ set }) => {
    set.headers["content-security-policy"] = FRAME_CSP;
    // frame-ancestors above decides who may frame it; browsers without CSP 2 read this instead.
    set.headers["x-frame-options"] = "SAMEORIGIN";
    set.headers["content-type"] = "text/html; charset=utf-8";
    return await DiagramFrame({ assets });
  });
}
