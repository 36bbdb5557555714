import type { Db } from "../db/client.ts";
import { auditLog, type User } from "../db/schema.ts";

/**
 * What an admin may need to account for, written as it happens (see audit_log in schema.ts).
 * Never put a password or a token in `detail`: the log is read by admins and kept for a year.
 */
export type AuditEvent = {
  actorId?: string | null;
  actorName?: string | null;
  /** "signin", "signin.failed", "user.disable", "group.create", "key.revoke", "share.create", ... */
  action: string;
  target?: string | null;
  detail?: Record<string, unknown>;
  ip?: string | null;
};

/** Who did something, and from where; absent, it was done from the command line. */
export type Actor = { user: Pick<User, "id" | "username">; ip?: string };

export async function audit(db: Db, event: AuditEvent): Promise<void> {
  await db.insert(auditLog).values(event);
}

/** An entry for what `by` did (or the command line, when nobody is named). */
export function auditBy(
  db: Db,
  by: Actor | undefined,
  action: string,
  target?: string | null,
  detail?: Record<string, unknown>,
): Promise<void> {
  return audit(db, {
    actorId: by?.user.id ?? null,
    actorName: by?.user.username ?? null,
    action,
    target: target ?? null,
    detail: by ? detail : { ...detail, via: "command line" },
    ip: by?.ip ?? null,
  });
}
