import { eq, getTableColumns } from "drizzle-orm";
import { files } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import type { TestDb } from "../support/db.ts";
import type { Person } from "../support/server.ts";

/** POST /files as the composer will: one multipart form, a `file` field per file. */
export function upload(who: Person, sent: File[], init: RequestInit = {}): Promise<Response> {
  const form = new FormData();
  for (const f of sent) form.append("file", f);
  return who.fetch("/files", { method: "POST", body: form, ...init });
}

/** The files an upload stored, or the sentence that refused it. */
export async function uploaded(res: Response): Promise<{ status: number; files?: FileInfo[]; error?: string }> {
  return { status: res.status, ...(await res.json()) };
}

/** A person's stored files as the database holds them (but their bytes), oldest first. */
export const storedFiles = (t: TestDb, who: Person) => {
  const { bytes: _, ...columns } = getTableColumns(files);
  return t.database.db.select(columns).from(files).where(eq(files.userId, who.user.id)).orderBy(files.id);
};
