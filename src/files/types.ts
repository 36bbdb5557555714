/* What the file service hands to routes and (later) views: here, so views need not import the service. */
import type { StoredFile } from "../db/schema.ts";

/** A stored file as the composer and a message show it: no bytes. */
export type FileInfo = Pick<StoredFile, "id" | "name" | "size" | "type">;
