import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { Elysia } from "elysia";
// Imported as files: real paths under `bun run`, embedded copies inside the compiled binary.
// Only these are servable; the binary's embedded file system is never exposed as a folder.
import htmxPath from "htmx.org/dist/htmx.min.js" with { type: "file" };
import wsPath from "htmx-ext-ws/dist/ws.min.js" with { type: "file" };
import mermaidPath from "mermaid/dist/mermaid.min.js" with { type: "file" };
import appJsPath from "../../static/app.js" with { type: "file" };
import cssPath from "../../static/build/app.css" with { type: "file" };
import diagramFramePath from "../../static/diagram-frame.js" with { type: "file" };
import iconPath from "../../static/icon.svg" with { type: "file" };
import appleIconPath from "../../static/icons/apple-touch-icon.png" with { type: "file" };
import icon192Path from "../../static/icons/icon-192.png" with { type: "file" };
import icon512Path from "../../static/icons/icon-512.png" with { type: "file" };
import maskableIconPath from "../../static/icons/icon-maskable-512.png" with { type: "file" };
import pickerJsPath from "../../static/model-picker.js" with { type: "file" };
import { KATEX_CSS, KATEX_FONTS, katexCss } from "./katex-assets.ts";

type Bytes = Uint8Array<ArrayBuffer>;
/**
 * `body`: the embedded file itself (Bun serves it from the binary), or bytes made at start. Held
 * in memory, the files cost every process ~7 MB (Mermaid's 5.5) that most never serve.
 * `gzip` compresses on first use, off the main thread: Mermaid's would cost ~0.3 s at every
 * start. None for woff2, compressed already.
 */
type Asset = { body: Blob | Bytes; gzip?: () => Promise<Bytes>; type: string; etag: string };
const gzipLater = promisify(gzip);

const SOURCES = {
  "app.css": { path: cssPath, type: "text/css; charset=utf-8" },
  "htmx.js": { path: htmxPath, type: "text/javascript; charset=utf-8" },
  "htmx-ws.js": { path: wsPath, type: "text/javascript; charset=utf-8" },
  "icon.svg": { path: iconPath, type: "image/svg+xml" },
  "icon-192.png": { path: icon192Path, type: "image/png" },
  "icon-512.png": { path: icon512Path, type: "image/png" },
  "icon-maskable-512.png": { path: maskableIconPath, type: "image/png" },
  "apple-touch-icon.png": { path: appleIconPath, type: "image/png" },
  "app.js": { path: appJsPath, type: "text/javascript; charset=utf-8" },
  "model-picker.js": { path: pickerJsPath, type: "text/javascript; charset=utf-8" },
  // Loaded only by the diagram frame (src/diagrams/), so only by pages that show a diagram.
  "mermaid.js": { path: mermaidPath, type: "text/javascript; charset=utf-8" },
  "diagram-frame.js": { path: diagramFramePath, type: "text/javascript; charset=utf-8" },
} as const;

/** Assets linked from pages; KaTeX's fonts are served too, named only by its stylesheet. */
export type AssetName = keyof typeof SOURCES | "katex.css";
/** Content-hashed URLs by logical name, for the layout's <link> and <script> tags. */
export type AssetUrls = Record<AssetName, string>;

/** Reads, hashes and compresses the embedded assets once, at start. */
export function loadAssets(): { urls: AssetUrls; byFile: Map<string, Asset> } {
  const byFile = new Map<string, Asset>();
  const add = (name: string, content: Bytes | string, type: string, compress = true) => {
    // A file's bytes are read to hash them, then let go; it is served from the file.
    const [body, bytes] =
      typeof content === "string" ? [Bun.file(content), readFileSync(content) as Bytes] : [content, content];
    const hash = new Bun.CryptoHasher("sha256").update(bytes).digest("hex").slice(0, 12);
    const dot = name.lastIndexOf(".");
    const file = `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
    let gzipped: Promise<Bytes> | undefined;
    const later = () =>
      (gzipped ??= new Response(body)
        .bytes()
        .then((raw) => gzipLater(raw, { level: 9 }))
        .then((b) => new Uint8Array(b) as Bytes));
    byFile.set(file, { body, gzip: compress ? later : undefined, type, etag: `"${hash}"` });
    return `/assets/${file}`;
  };
  const urls = {} as AssetUrls;
  for (const [name, source] of Object.entries(SOURCES) as [
    keyof typeof SOURCES,
    (typeof SOURCES)[keyof typeof SOURCES],
  ][]) {
    urls[name] = add(name, source.path, source.type);
  }
  // woff2 is compressed already: gzip would gain nothing.
  const fontUrls = Object.fromEntries(
    Object.entries(KATEX_FONTS).map(([file, path]) => [file, add(file, path, "font/woff2", false)]),
  );
  const css = katexCss(readFileSync(KATEX_CSS, "utf8"), fontUrls);
  urls["katex.css"] = add("katex.css", new TextEncoder().encode(css) as Bytes, "text/css; charset=utf-8");
  return { urls, byFile };
}

/** Serves the hashed assets; a hashed URL never changes content, so browsers may keep it a year. */
export function assetRoutes(byFile: Map<string, Asset>) {
  return new Elysia({ name: "assets" }).get("/assets/:file", async ({ params, request, status }) => {
    const asset = byFile.get(params.file);
    if (!asset) return status(404, "Not found");
    const headers: Record<string, string> = {
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
      etag: asset.etag,
      vary: "accept-encoding",
    };
    if (request.headers.get("if-none-match") === asset.etag) return new Response(null, { status: 304, headers });
    if (asset.gzip && /\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
      return new Response(await asset.gzip(), { headers: { ...headers, "content-encoding": "gzip" } });
    }
    return new Response(asset.body, { headers });
  });
}
