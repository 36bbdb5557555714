import { isId } from "../db/ids.ts";

/**
 * What a chat page already shows, as app.js reports it when its socket (re)connects, so the
 * socket sends only what the page lacks. Parts replaced whole (the chat list, the title, the
 * totals) carry a `data-version` of what they show; the conversation is told by its last message,
 * that message's state, and `forks`: the sum over the messages shown of their versions (the N of
 * each ‹ i / N ›, 1 for a message without). A socket without this report gets everything.
 */
export type PageState = {
  nav?: string;
  /** The sidebar's project groups (src/projects/). */
  groups?: string;
  title?: string;
  usage?: string;
  /** The last message shown, its status, and the versions shown in all; absent on an empty chat. */
  last?: { id: string; status: string };
  forks: number;
  /** The page shows the service banner (so it must hear when the trouble is over). */
  banner: boolean;
};

/** A short fingerprint of what a part of the page shows (the same everywhere: instances agree). */
export function versionOf(...parts: unknown[]): string {
  return Bun.hash(JSON.stringify(parts)).toString(36);
}

/** The page's report from the socket's query, if it sent one (`page=1`). */
export function pageState(query: Record<string, string | undefined>): PageState | undefined {
  if (query.page !== "1") return undefined;
  const short = (v: string | undefined) => (v && v.length <= 32 ? v : undefined);
  const status = short(query.status);
  return {
    nav: short(query.nav),
    groups: short(query.groups),
    title: short(query.title),
    usage: short(query.usage),
    last: isId(query.last) && status ? { id: query.last, status } : undefined,
    forks: Number.parseInt(query.forks ?? "", 10) || 0,
    banner: query.banner === "1",
  };
}

/** Whether the page already shows a fragment: the version it reported is the one the fragment carries. */
export function alreadyShown(reported: string | undefined, fragment: string): boolean {
  return reported !== undefined && fragment.includes(` data-version="${reported}"`);
}
