import type { Db } from "../db/client.ts";

/**
 * Which models a person may use (their groups' allow-lists).
 * STUB (issue 22): everything is allowed; the groups work replaces the body, not the signature.
 */
export async function allowedModels(_db: Db, _userId: string): Promise<(model: string) => boolean> {
  return () => true;
}
