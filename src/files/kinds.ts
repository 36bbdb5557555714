/*
 * What a file is, decided by its bytes: never by its name or by the type the browser claims. Pure
 * functions, tested directly and through POST /files.
 */
import { isUtf8 } from "node:buffer";
import type { FileType } from "../db/schema.ts";

/** A file refused, with the sentence the person reads and the HTTP status it is sent with. */
export class FileError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 | 422 = 422,
  ) {
    super(message);
  }
}

/** Image types Parley serves inline; every other file is a download. SVG is never one of them. */
export const RASTER_IMAGES: readonly FileType[] = ["image/png", "image/jpeg", "image/webp", "image/gif"];

export const MAX_NAME_LENGTH = 255;
/** Where a PDF's `%%EOF` may be: writers leave a line break or a few bytes after it. */
const PDF_TAIL = 1024;

const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
const at = (bytes: Uint8Array, offset: number, expected: number[]) =>
  bytes.length >= offset + expected.length && expected.every((b, i) => bytes[offset + i] === b);

const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const SIGNATURES: [FileType, (b: Uint8Array) => boolean][] = [
  // The signature, then the IHDR chunk every PNG starts with.
  ["image/png", (b) => at(b, 0, PNG) && at(b, 12, ascii("IHDR"))],
  ["image/jpeg", (b) => at(b, 0, [0xff, 0xd8, 0xff])],
  ["image/gif", (b) => at(b, 0, ascii("GIF87a")) || at(b, 0, ascii("GIF89a"))],
  // RIFF, a length, WEBP, then a VP8 / VP8L / VP8X chunk.
  ["image/webp", (b) => at(b, 0, ascii("RIFF")) && at(b, 8, ascii("WEBPVP8"))],
];

/** The raster image type of these bytes (PNG, JPEG, WebP, GIF, by their signature), if they are one. */
export function imageType(bytes: Uint8Array): FileType | undefined {
  return SIGNATURES.find(([, matches]) => matches(bytes))?.[0];
}

/** Names that promise an image or a PDF: the bytes must keep that promise, or the file is refused. */
const PROMISES: Record<string, "image" | "pdf"> = {
  png: "image",
  jpg: "image",
  jpeg: "image",
  gif: "image",
  webp: "image",
  pdf: "pdf",
};

/**
 * Valid UTF-8 with no NUL byte: text a model can read, whatever its extension (code, logs, CSV, SVG...).
 * Checked without decoding: decoding a 20 MB file (a fatal TextDecoder) held the server's thread
 * 0.2-0.45 s, and every answer streaming meanwhile stalled (bench/files-load.ts); this takes ~1 ms.
 */
function isText(bytes: Uint8Array): boolean {
  return !bytes.includes(0) && isUtf8(bytes);
}

function endsLikePdf(bytes: Uint8Array): boolean {
  const tail = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).subarray(-PDF_TAIL);
  return tail.includes("%%EOF");
}

/**
 * The type of a file's bytes: a raster image (PNG, JPEG, WebP, GIF), a PDF, or text (valid UTF-8,
 * no NUL). SVG and HTML are text: stored and served as text/plain, never as something a browser
 * renders. Anything else, and bytes that break the promise of the file's name, throw a FileError.
 * `name` has passed `fileName`.
 */
export function fileType(bytes: Uint8Array, name: string): FileType {
  if (bytes.length === 0) throw new FileError(`“${name}” is empty (0 bytes).`);
  const promise = PROMISES[name.split(".").pop()!.toLowerCase()];
  const image = imageType(bytes);
  if (image) {
    if (promise === "pdf") throw new FileError(`“${name}” is not a PDF: it is an image.`);
    return image;
  }
  if (at(bytes, 0, ascii("%PDF-"))) {
    if (!endsLikePdf(bytes)) {
      throw new FileError(`“${name}” is not a PDF: it starts like one but does not end like one (cut off or damaged).`);
    }
    if (promise === "image") throw new FileError(`“${name}” is not an image: it is a PDF.`);
    return "application/pdf";
  }
  if (promise === "image")
    throw new FileError(`“${name}” is not a PNG, JPEG, WebP or GIF image, whatever its name says.`);
  if (promise === "pdf") throw new FileError(`“${name}” is not a PDF, whatever its name says.`);
  if (isText(bytes)) return "text/plain";
  throw new FileError(
    `“${name}” is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.`,
  );
}

/**
 * Control characters (C0, DEL, C1, line and paragraph separators, a byte-order mark), and the
 * invisible marks that reorder text: a right-to-left override makes "invoice\u202efdp.exe" read as
 * "invoiceexe.pdf". (Zero-width joiners stay: emoji and Persian names need them.)
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff]/u;

/**
 * A file's name as the person gave it, or a FileError. Refused rather than cleaned up, so what is
 * stored is what they will see: a path (a slash or backslash), control characters, markup (`<`,
 * `>`), no name at all, a name of dots only, one over 255 characters. The sentences do not repeat
 * the name: a name refused is not shown anywhere.
 */
export function fileName(raw: string): string {
  const name = raw.normalize("NFC").trim();
  if (!name || /^\.+$/.test(name)) throw new FileError("Each file needs a name.");
  if (/[/\\]/.test(name)) throw new FileError("A file name may not contain / or \\: give the file's name, not a path.");
  if (CONTROL.test(name)) throw new FileError("A file name may not contain control or invisible characters.");
  if (/[<>]/.test(name)) throw new FileError("A file name may not contain < or >.");
  if (name.length > MAX_NAME_LENGTH) {
    throw new FileError(`A file name can be at most ${MAX_NAME_LENGTH} characters long.`);
  }
  return name;
}
