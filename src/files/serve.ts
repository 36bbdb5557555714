/*
 * Sending a stored file, the same way wherever it is sent from: to its owner (GET /files/:id) and
 * to the readers of a shared snapshot (GET /s/<token>/files/<id>). Only who may ask, and how long
 * a browser may keep the file, differ between them.
 */
import type { StoredFile } from "../db/schema.ts";
import { asciiName, contentDisposition } from "../http/disposition.ts";
import { RASTER_IMAGES } from "./kinds.ts";

/** What serving needs of a file: its bytes and what Parley knows of them. */
export type ServedFile = Pick<StoredFile, "name" | "type" | "sha256" | "bytes">;

/**
 * A file is nothing but data: no script, style, frame or plugin runs from it, even when opened
 * on its own (a raster image's viewer needs its own image and inline style, nothing else).
 */
const FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

/**
 * The file as a response, with the type Parley found in its bytes (never the name's or the
 * browser's), `nosniff`, a download for anything but a raster image, and the sandbox above; or a
 * 304 when the browser already holds these bytes (the ETag is their SHA-256). `caching` adds how
 * long, and for whom, it may be kept.
 */
export function fileResponse(file: ServedFile, request: Request, caching: Record<string, string>): Response {
  const inline = RASTER_IMAGES.includes(file.type);
  const headers = {
    "content-type": file.type === "text/plain" ? "text/plain; charset=utf-8" : file.type,
    "content-disposition": contentDisposition(inline ? "inline" : "attachment", {
      ascii: asciiName(file.name),
      utf8: file.name,
    }),
    "x-content-type-options": "nosniff",
    "content-security-policy": FILE_CSP,
    "cross-origin-resource-policy": "same-origin",
    ...caching,
    etag: `"${file.sha256}"`,
  };
  if (matches(request.headers.get("if-none-match"), headers.etag)) return new Response(null, { status: 304, headers });
  return new Response(file.bytes as Uint8Array<ArrayBuffer>, { headers });
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  return !!ifNoneMatch && ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
