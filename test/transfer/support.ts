import { eq, inArray, sql } from "drizzle-orm";
import type { ChatSettings } from "../../src/chat/settings.ts";
import { type Chat, chats, type Message, messages } from "../../src/db/schema.ts";
import type { TestDb } from "../support/db.ts";
import type { Person } from "../support/server.ts";

/** A chat stored as the app stores one, with messages in reading order (ids made in order), one line by default. */
export async function seedChat(
  t: TestDb,
  userId: string,
  chat: { title: string; model?: string; createdAt?: Date; updatedAt?: Date } & Partial<ChatSettings>,
  rows: Partial<Message>[],
): Promise<{ chat: Chat; messages: Message[] }> {
  const [made] = await t.database.db
    .insert(chats)
    .values({
      userId,
      ...chat,
      model: chat.model ?? "fake/fast",
      createdAt: chat.createdAt ?? new Date("2026-01-02T10:00:00Z"),
      updatedAt: chat.updatedAt ?? new Date("2026-01-02T10:05:00Z"),
    })
    .returning();
  const values = rows.map((m, i) => ({
    id: Bun.randomUUIDv7(),
    chatId: made!.id,
    role: m.role ?? (i % 2 ? "assistant" : "user"),
    content: m.content ?? "",
    status: m.status ?? "complete",
    createdAt: m.createdAt ?? new Date(Date.parse("2026-01-02T10:00:00Z") + i * 60_000),
    ...m,
  })) as (typeof messages.$inferInsert)[];
  // One line unless the test says otherwise: each message follows the one before it.
  for (let i = 1; i < values.length; i++) values[i]!.parentId ??= values[i - 1]!.id;
  const stored = values.length ? await t.database.db.insert(messages).values(values).returning() : [];
  return { chat: made!, messages: stored };
}

/** How many chats and messages the database holds, over everyone. */
export async function rowCounts(t: TestDb): Promise<{ chats: number; messages: number }> {
  const [row] = await t.database.rows<{ chats: number; messages: number }>(
    sql`select (select count(*) from chats)::int as chats, (select count(*) from messages)::int as messages`,
  );
  return { chats: Number(row!.chats), messages: Number(row!.messages) };
}

/** A person's chats with their messages, oldest chat first, each in reading order. */
export async function chatsOf(t: TestDb, userId: string) {
  const own = await t.database.db.select().from(chats).where(eq(chats.userId, userId)).orderBy(chats.id);
  const all = own.length
    ? await t.database.db
        .select()
        .from(messages)
        .where(
          inArray(
            messages.chatId,
            own.map((c) => c.id),
          ),
        )
        .orderBy(messages.id)
    : [];
  return own.map((chat) => ({ chat, messages: all.filter((m) => m.chatId === chat.id) }));
}

/** Uploads a file through the import form, as the browser posts it. */
export function upload(
  who: Person,
  content: string | Uint8Array<ArrayBuffer>,
  name = "export.json",
): Promise<Response> {
  const form = new FormData();
  form.append("file", new File([content], name, { type: "application/json" }));
  return who.fetch("/account/import", { method: "POST", body: form });
}
