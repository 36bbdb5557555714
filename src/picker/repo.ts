import { and, asc, desc, eq, max, sql } from "drizzle-orm";
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

/** How far back "lately" goes, in chats. */
const RECENT_CHATS = 200;

/**
 * The models of a person's most recently active chats, newest first: what they used lately. Only
 * their newest chats are read: grouping all of them cost a 10,000-chat person 2-5 ms on every page.
 */
export async function recentModels(db: Db, userId: string, limit: number): Promise<string[]> {
  const newest = db
    .select({ model: chats.model, updatedAt: chats.updatedAt })
    .from(chats)
    .where(eq(chats.userId, userId))
    // As chats_user_recent_idx is sorted, so that it is read in order and only so far.
    .orderBy(sql`${chats.updatedAt} desc nulls last`)
    .limit(RECENT_CHATS)
    .as("newest");
  const last = max(newest.updatedAt);
  const rows = await db
    .select({ model: newest.model, last })
    .from(newest)
    .groupBy(newest.model)
    .orderBy(desc(last))
    .limit(limit);
  return rows.map((r) => r.model);
}
