import type { FileType } from "../db/schema.ts";
import { FileError, fileName, fileType } from "../files/kinds.ts";
import type { NewFile } from "../files/repo.ts";
import type { FileLimits } from "../files/service.ts";
import { fileSize } from "../limits.ts";
import { count, ImportError, isObject, own, type pacer, quoted, reader } from "./read.ts";

/*
 * A message's files in Parley's export (format version 2): each with what Parley knows of it and
 * its bytes in base64. Read back, a file is checked as an upload is (its name; its type from its
 * bytes, whatever the file says; the size limits), and against what the file says of it (type,
 * size, SHA-256), so that what is stored is byte for byte what was exported, or nothing is.
 */

/** A file as the export holds it. */
export type ExportedFile = { name: string; type: FileType; size: number; sha256: string; data: string };

/** A file to write into an export: its bytes are read when it is written, one file at a time. */
export type FileToExport = Omit<ExportedFile, "data"> & { bytes(): Promise<Uint8Array> };

/** What each type is called in a sentence. */
const KIND: Record<FileType, string> = {
  "image/png": "a PNG image",
  "image/jpeg": "a JPEG image",
  "image/webp": "a WebP image",
  "image/gif": "a GIF image",
  "application/pdf": "a PDF",
  "text/plain": "text",
};

/** Standard base64 with its padding, as Buffer's toString("base64") writes it. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");

/**
 * The files of one message (`at` names it: `Chat 1 ("Title"), message 2`), checked; none when it
 * has no `attachments`. Throws ImportError at the first problem.
 */
export async function readAttachments(
  at: string,
  raw: unknown,
  limits: Pick<FileLimits, "fileBytes" | "perMessage">,
  pace: ReturnType<typeof pacer>,
): Promise<NewFile[]> {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new ImportError(`${at} has attachments that are not a list.`);
  if (raw.length > limits.perMessage) {
    throw new ImportError(
      `${at} has ${count(raw.length)} files; a message can carry at most ${count(limits.perMessage)}.`,
    );
  }
  const read: NewFile[] = [];
  for (const [i, item] of raw.entries()) {
    // Decoding and hashing a file at the size limit holds the thread a while: a turn between files.
    if (pace.due()) await pace.turn();
    read.push(readFile(`${at}, file ${i + 1}`, item, limits.fileBytes));
  }
  return read;
}

function readFile(at: string, item: unknown, maxBytes: number): NewFile {
  if (!isObject(item)) throw new ImportError(`${at} is not an object.`);
  const rawName = own(item, "name");
  if (typeof rawName !== "string") throw new ImportError(`${at} has no name.`);
  const name = asImportError(at, () => fileName(rawName));
  const file = reader(`${at} (“${name}”)`, item);
  const data = own(item, "data");
  if (typeof data !== "string") return file.refuse("has no data");
  if (data.length % 4 !== 0 || !BASE64.test(data)) return file.refuse("has data that is not base64");
  // Known before decoding: a file far too large is refused without being decoded.
  const length = (data.length / 4) * 3 - (data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0);
  if (length > maxBytes) {
    throw new ImportError(`${at}: “${name}” is larger than ${fileSize(maxBytes)}, the most a file may be.`);
  }
  const bytes: Uint8Array = Buffer.from(data, "base64");
  const type = asImportError(at, () => fileType(bytes, name));
  const said = own(item, "type");
  if (said !== undefined && said !== null && said !== type) {
    file.refuse(`is marked as ${quoted(said)}, but its bytes are ${KIND[type]}`);
  }
  const size = own(item, "size");
  if (size !== undefined && size !== null && size !== bytes.length) {
    file.refuse(`is marked as ${quoted(size)} bytes, but its data holds ${count(bytes.length)}`);
  }
  const hash = sha256(bytes);
  const saidHash = own(item, "sha256");
  if (saidHash !== undefined && saidHash !== null && saidHash !== hash) {
    file.refuse("does not match its sha256: its bytes were changed or damaged since it was exported");
  }
  return { name, type, size: bytes.length, sha256: hash, bytes };
}

/** A file's own refusal (kinds.ts), said of where it is in the import. */
function asImportError<T>(at: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof FileError) throw new ImportError(`${at}: ${err.message}`);
    throw err;
  }
}
