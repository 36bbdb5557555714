import type { AuditEntry } from "../db/schema.ts";

/** What the admin's audit page shows: plain data, shared by the service and the view. */
export type AuditQuery = { action: string; person: string; before?: string };
export type AuditPage = {
  query: AuditQuery;
  entries: AuditEntry[];
  /** The id the next (older) page starts after, when there is one. */
  older?: string;
  /** Every action the filter offers: the known ones and any other the log holds. */
  actions: string[];
  error?: string;
};
