import type { Db } from "../db/client.ts";
import { auditLog } from "../db/schema.ts";

/**
 * What an admin may need to account for, written as it happens (see audit_log in schema.ts).
 * STUB (issue 22): the audit work adds retention and the admin's page; callers keep this signature.
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

export async function audit(db: Db, event: AuditEvent): Promise<void> {
  await db.insert(auditLog).values(event);
}
