/*
 * Images a model sends in its answer, as data URLs (`data:image/png;base64,...`): decoded and
 * checked like an upload, by their bytes (the media type the URL claims is not believed). Pure.
 */
import type { FileType } from "../db/schema.ts";
import { fileSize } from "../limits.ts";
import { FileError, imageType } from "./kinds.ts";

const EXTENSIONS: Partial<Record<FileType, string>> = {
  "image/png": "png",
  "image/jpeg": "jpg",
  "image/webp": "webp",
  "image/gif": "gif",
};

/** Base64, standard or URL-safe, padding optional. */
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** An image decoded from a data URL: its type (by its bytes), bytes, and the extension its name takes. */
export type DecodedImage = { type: FileType; bytes: Uint8Array; extension: string };

/**
 * The raster image (PNG, JPEG, WebP, GIF) a data URL holds, or a FileError whose sentence says why
 * it is left out: not a base64 data URL, empty, larger than `maxBytes`, or not such an image.
 */
export function imageFromDataUrl(url: string, maxBytes: number): DecodedImage {
  const comma = url.indexOf(",");
  if (comma < 0 || !/^data:[^,]*;base64$/i.test(url.slice(0, comma))) {
    throw new FileError("The model sent an image that is not a base64 data URL; it was left out.");
  }
  let payload = url.slice(comma + 1);
  if (/\s/.test(payload)) payload = payload.replace(/\s+/g, "");
  // Refused before decoding: a huge string costs as much again to decode.
  if (Math.floor((payload.length * 3) / 4) > maxBytes + 2) throw tooLarge(maxBytes);
  if (!BASE64.test(payload) || payload.replace(/=+$/, "").length % 4 === 1) {
    throw new FileError("The model sent an image whose data is not valid base64; it was left out.");
  }
  const bytes = new Uint8Array(Buffer.from(payload, "base64"));
  if (!bytes.length) throw new FileError("The model sent an empty image; it was left out.");
  if (bytes.length > maxBytes) throw tooLarge(maxBytes);
  const type = imageType(bytes);
  if (!type) {
    throw new FileError("The model sent an image that is not a PNG, JPEG, WebP or GIF; it was left out.");
  }
  return { type, bytes, extension: EXTENSIONS[type]! };
}

const tooLarge = (maxBytes: number) =>
  new FileError(`The model sent an image larger than ${fileSize(maxBytes)}, the most a file may be; it was left out.`);
