import type { AssetUrls } from "../../src/http/assets.ts";

/**
 * The page inside a diagram's sandboxed frame: Mermaid and the script that draws what the chat
 * page sends it (static/diagram-frame.js). Nothing of anyone's is in it, and it needs no sign-in.
 */
export function DiagramFrame({ assets }: { assets: AssetUrls }): JSX.Element {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          {/* As the chat page's, so the frame's background stays transparent in either scheme. */}
          <meta name="color-scheme" content="light dark" />
          <title>Diagram</title>
          <script src={assets["mermaid.js"]} defer></script>
          <script src={assets["diagram-frame.js"]} defer></script>
        </head>
        <body>
          <div id="diagram"></div>
        </body>
      </html>
    </>
  );
}
