import type { AssetUrls } from "../src/http/assets.ts";

export type LayoutProps = { title: string; assets: AssetUrls; children: JSX.Element };

/** The page shell: styles, htmx and its WebSocket extension, all from hashed same-origin URLs. */
export function Layout({ title, assets, children }: LayoutProps): JSX.Element {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en" class="h-full">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          {/* Eval and inline script tags off: the CSP forbids them anyway, and htmx should not try. */}
          <meta
            name="htmx-config"
            content='{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"selfRequestsOnly":true,"historyCacheSize":0,"refreshOnHistoryMiss":true}'
          />
          <title safe>{title}</title>
          <link rel="icon" href={assets["icon.svg"]} type="image/svg+xml" />
          <link rel="stylesheet" href={assets["app.css"]} />
          <script src={assets["htmx.js"]} defer></script>
          <script src={assets["htmx-ws.js"]} defer></script>
          <script src={assets["app.js"]} defer></script>
        </head>
        <body class="h-full bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">{children}</body>
      </html>
    </>
  );
}
