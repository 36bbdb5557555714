import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import { AUDIT_ACTIONS } from "./actions.ts";
import * as repo from "./repo.ts";
import type { AuditPage, AuditQuery } from "./types.ts";

export type { AuditPage } from "./types.ts";

/** Entries on one page of the admin's log. */
export const AUDIT_PAGE_SIZE = 50;
const DAY = 24 * 60 * 60 * 1000;

const text = (v: unknown, max: number) => (typeof v === "string" ? v.trim().slice(0, max) : "");

/** The admin's view of the audit log, and its retention. */
export function createAuditService({ database, retentionDays }: { database: Database; retentionDays: number }) {
  const { db } = database;
  return {
    /** One page of the log for the filters in the query string; bad input comes back as `error`. */
    async page(raw: Record<string, unknown>, pageSize = AUDIT_PAGE_SIZE): Promise<AuditPage> {
      const query: AuditQuery = { action: text(raw.action, 60), person: text(raw.person, 60) };
      const known = await repo.actions(db);
      const actions = [...new Set([...Object.keys(AUDIT_ACTIONS), ...known])].sort();
      const empty = (error: string): AuditPage => ({ query, entries: [], actions, error });
      if (query.action && !actions.includes(query.action)) return empty("There is no such action to filter by.");
      let before: { createdAt: Date; id: string } | undefined;
      const rawBefore = text(raw.before, 60);
      if (rawBefore) {
        const start = isId(rawBefore) ? await repo.entry(db, rawBefore) : undefined;
        if (!start) return empty("That page of the log is no longer there; start again from the newest entries.");
        query.before = rawBefore;
        before = { createdAt: start.createdAt, id: start.id };
      }
      const rows = await repo.entries(
        db,
        { action: query.action || undefined, person: query.person || undefined, before },
        pageSize,
      );
      const entries = rows.slice(0, pageSize);
      return { query, entries, actions, older: rows.length > pageSize ? entries.at(-1)?.id : undefined };
    },

    /** Deletes entries older than the retention setting (AUDIT_RETENTION_DAYS). */
    sweep: (now = Date.now()) => repo.deleteBefore(db, new Date(now - retentionDays * DAY)),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
