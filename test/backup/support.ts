import { asc, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.ts";
import { messages } from "../../src/db/schema.ts";

export const PASSWORDS = { ann: "first long enough password", bob: "second long enough password" };

/** Signs in over HTTP as the browser does; the session cookie, or undefined when refused. */
export async function signIn(url: string, who: keyof typeof PASSWORDS): Promise<string | undefined> {
  const res = await fetch(`${url}/signin`, {
    method: "POST",
    headers: { Origin: url },
    body: new URLSearchParams({ username: who, password: PASSWORDS[who] }),
    redirect: "manual",
  });
  return res.status === 303 ? res.headers.get("set-cookie")!.split(";")[0]! : undefined;
}

/** A person's requests to one server, signed in, with this site's Origin. */
export function client(url: string, cookie: string) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, {
      redirect: "manual",
      ...init,
      headers: { Origin: url, cookie, ...(init.headers as Record<string, string>) },
    });
}

/** Starts a chat as the browser does; its id. */
export async function startChat(fetchAs: ReturnType<typeof client>, content: string): Promise<string> {
  const made = await fetchAs("/chats", { method: "POST", body: new URLSearchParams({ content, model: "fake/fast" }) });
  return /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
}

/** The messages a chat page shows: id and status of each article. */
export async function pageMessages(fetchAs: ReturnType<typeof client>, chatId: string) {
  const html = await (await fetchAs(`/chats/${chatId}`)).text();
  return [...html.matchAll(/<article id="msg-([0-9a-f-]+)"[^>]*data-role="(\w+)" data-status="(\w+)"/g)].map(
    ([, id, role, status]) => ({ id: id!, role: role!, status: status! }),
  );
}

/** Every message, in id order, as stored. */
export function allMessages(database: Database) {
  return database.db.select().from(messages).orderBy(asc(messages.id));
}

/** One line of output per refusal: "parley: " and a sentence, no stack. */
export function oneSentence(stderr: string): string {
  const lines = stderr.trim().split("\n");
  if (lines.length !== 1 || !lines[0]!.startsWith("parley: ") || /\n\s+at /.test(stderr)) {
    throw new Error(`expected one sentence, got: ${stderr}`);
  }
  return lines[0]!;
}

/** Table rows as exact JSON (timestamps in UTC, to the microsecond), in key order. */
export async function tableJson(database: Database, table: string, key: string): Promise<string[]> {
  const rows = await database.rows<{ r: string }>(
    sql`select row_to_json(t)::text as r from ${sql.identifier(table)} t order by ${sql.identifier(key)}`,
  );
  return rows.map((r) => r.r);
}
