import { desc } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { type Chat, chats } from "../db/schema.ts";

/** The most recently active chats first. */
export function listRecentChats(db: Db, limit = 50): Promise<Chat[]> {
  return db.select().from(chats).orderBy(desc(chats.updatedAt), desc(chats.id)).limit(limit);
}
