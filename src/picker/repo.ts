import { and, asc, desc, eq, max } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chats, favouriteModels } from "../db/schema.ts";

/** The models a person starred, oldest star first. */
export async function favourites(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .select({ model: favouriteModels.model })
    .from(favouriteModels)
    .where(eq(favouriteModels.userId, userId))
    .orderBy(asc(favouriteModels.createdAt), asc(favouriteModels.id));
  return rows.map((r) => r.model);
}

/** Stars a model for a person, or takes the star away; starring twice keeps one star. */
export async function setFavourite(db: Db, userId: string, model: string, on: boolean): Promise<void> {
  if (on) {
    await db.insert(favouriteModels).values({ userId, model }).onConflictDoNothing();
  } else {
    await db.delete(favouriteModels).where(and(eq(favouriteModels.userId, userId), eq(favouriteModels.model, model)));
  }
}

/** The models of a person's most recently active chats, newest first: what they used lately. */
export async function recentModels(db: Db, userId: string, limit: number): Promise<string[]> {
  const last = max(chats.updatedAt);
  const rows = await db
    .select({ model: chats.model, last })
    .from(chats)
    .where(eq(chats.userId, userId))
    .groupBy(chats.model)
    .orderBy(desc(last))
    .limit(limit);
  return rows.map((r) => r.model);
}
