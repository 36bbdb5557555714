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

type Bytes = Uint8Array<ArrayBuffer>;
/** `gzip` compresses on first use, off the main thread: Mermaid's 5.5 MB would cost ~0.3 s at every start. */
type Asset = { body: Bytes; gzip: () => Promise<Bytes>; type: string; etag: string };
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

export type AssetName = keyof typeof SOURCES;
/** Content-hashed URLs by logical name, for the layout's <link> and <script> tags. */
export type AssetUrls = Record<AssetName, string>;

/** Reads, hashes and compresses the embedded assets once, at start. */
export function loadAssets(): { urls: AssetUrls; byFile: Map<string, Asset> } {
  const urls = {} as AssetUrls;
  const byFile = new Map<string, Asset>();
  for (const [name, source] of Object.entries(SOURCES) as [AssetName, (typeof SOURCES)[AssetName]][]) {
    const body = new Uint8Array(readFileSync(source.path)) as Bytes;
    const hash = new Bun.CryptoHasher("sha256").update(body).digest("hex").slice(0, 12);
    const dot = name.lastIndexOf(".");
    const file = `${name.slice(0, dot)}.${hash}${name.slice(dot)}`;
    urls[name] = `/assets/${file}`;
    let gzipped: Promise<Bytes> | undefined;
    const compress = () => (gzipped ??= gzipLater(body, { level: 9 }).then((b) => new Uint8Array(b) as Bytes));
    byFile.set(file, { body, gzip: compress, type: source.type, etag: `"${hash}"` });
  }
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
    if (/\bgzip\b/.test(request.headers.get("accept-encoding") ?? "")) {
      return new Response(await asset.gzip(), { headers: { ...headers, "content-encoding": "gzip" } });
    }
    return new Response(asset.body, { headers });
  });
}
