import { expect } from "bun:test";
import type { Person } from "./server.ts";

/** Makes a personal API key as the account page does (an htmx post); its token (shown this once) and id. */
export async function createKey(who: Person, name: string): Promise<{ token: string; id: string; html: string }> {
  const res = await who.fetch("/account/keys", {
    method: "POST",
    headers: { "hx-request": "true" },
    body: new URLSearchParams({ name }),
  });
  const html = await res.text();
  expect({ status: res.status, html }).toMatchObject({ status: 200 });
  const token = /id="api-key-new"[^>]*value="(pk_[A-Za-z0-9_-]{43})"/.exec(html)?.[1];
  const id = /data-key="([0-9a-f-]+)"/.exec(html)?.[1];
  expect(token).toBeDefined();
  return { token: token!, id: id!, html };
}

/** Revokes a key as the account page's confirmation does (an htmx DELETE). */
export function revokeKey(who: Person, id: string): Promise<Response> {
  return who.fetch(`/account/keys/${id}`, { method: "DELETE", headers: { "hx-request": "true" } });
}
