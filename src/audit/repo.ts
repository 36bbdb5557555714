import { and, desc, eq, ilike, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type AuditEntry, auditLog } from "../db/schema.ts";

export type AuditFilter = { action?: string; person?: string; before?: { createdAt: Date; id: string } };

/** `%` and `_` typed by the admin are matched as themselves. */
const likeText = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * One page of entries, newest first, after `before` (keyset paging on time, then id). One more
 * than `limit` is read, so the caller knows whether an older page exists.
 */
export function entries(db: Db, filter: AuditFilter, limit: number): Promise<AuditEntry[]> {
  const where: SQL[] = [];
  if (filter.action) where.push(eq(auditLog.action, filter.action));
  if (filter.person) {
    const like = likeText(filter.person);
    where.push(or(ilike(auditLog.actorName, like), ilike(auditLog.target, like))!);
  }
  if (filter.before) {
    where.push(
      // The cursor's time is read in SQL: a JavaScript Date keeps milliseconds, Postgres keeps
      // microseconds, and entries written in the same millisecond fell between the two.
      sql`(${auditLog.createdAt}, ${auditLog.id}) < (select c.created_at, c.id from audit_log c where c.id = ${filter.before.id}::uuid)`,
    );
  }
  return db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit + 1);
}

/** An entry by id (where an "Older" link starts). */
export async function entry(db: Db, id: string): Promise<AuditEntry | undefined> {
  const [row] = await db.select().from(auditLog).where(eq(auditLog.id, id));
  return row;
}

/** The actions the log holds, for the filter. */
export async function actions(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ action: auditLog.action }).from(auditLog);
  return rows.map((r) => r.action);
}

/** Deletes entries written before `cutoff`; returns how many. */
export async function deleteBefore(db: Db, cutoff: Date): Promise<number> {
  const rows = await db.delete(auditLog).where(lt(auditLog.createdAt, cutoff)).returning({ id: auditLog.id });
  return rows.length;
}
