import type { AssetUrls } from "../src/http/assets.ts";

/** The page background, light and dark (Tailwind's white and zinc-950): the browser's chrome matches it. */
export const THEME_COLORS = { light: "#ffffff", dark: "#09090b" } as const;

export type LayoutProps = {
  title: string;
  assets: AssetUrls;
  children: JSX.Element;
  /** A page that only shows (a shared chat): it opens no socket, so no socket extension. */
  readOnly?: boolean;
  /** The page has a model picker (views/components/model-picker.tsx): its script upgrades it. */
  picker?: boolean;
};

/** The page shell: styles, htmx and its WebSocket extension, all from hashed same-origin URLs. */
export function Layout({ title, assets, children, readOnly, picker }: LayoutProps): JSX.Element {
  return (
    <>
      {"<!doctype html>"}
      <html lang="en" class="h-full">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="color-scheme" content="light dark" />
          {/* Eval and inline script tags off: the CSP forbids them anyway, and htmx should not try.
              A 422 is a refused form sent back with its reason: swapped in like a success. */}
          <meta
            name="htmx-config"
            content='{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"selfRequestsOnly":true,"historyCacheSize":0,"refreshOnHistoryMiss":true,"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true,"error":true},{"code":"[45]..","swap":false,"error":true},{"code":"...","swap":true}]}'
          />
          <title safe>{title}</title>
          <link rel="icon" href={assets["icon.svg"]} type="image/svg+xml" />
          {/* Installable: the manifest, iOS's home-screen icon, and the browser chrome in the page's colour. */}
          <link rel="manifest" href="/manifest.webmanifest" />
          <link rel="apple-touch-icon" href={assets["apple-touch-icon.png"]} />
          <meta name="theme-color" content={THEME_COLORS.light} media="(prefers-color-scheme: light)" />
          <meta name="theme-color" content={THEME_COLORS.dark} media="(prefers-color-scheme: dark)" />
          <link rel="stylesheet" href={assets["app.css"]} />
          {/* Typeset math in answers; its fonts load only when a formula uses them. */}
          <link rel="stylesheet" href={assets["katex.css"]} />
          <script src={assets["htmx.js"]} defer></script>
          {readOnly ? "" : <script src={assets["htmx-ws.js"]} defer></script>}
          <script src={assets["app.js"]} defer></script>
          {picker ? <script src={assets["model-picker.js"]} defer></script> : ""}
        </head>
        <body class="h-full bg-white text-zinc-900 antialiased dark:bg-zinc-950 dark:text-zinc-100">{children}</body>
      </html>
    </>
  );
}
