import { and, asc, eq, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { preparedOnce } from "../db/prepared.ts";
import { chats, type Session, sessions, siteSettings, type User, users } from "../db/schema.ts";

export function countUsers(db: Db): Promise<number> {
  return db
    .select({ n: sql<number>`count(*)::int` })
    .from(users)
    .then(([row]) => Number(row?.n ?? 0));
}

/** Everyone, with how many chats they have and whether they are linked to a single sign-on provider. */
export function listUsers(db: Db): Promise<(User & { chats: number; sso: boolean })[]> {
  return db
    .select({
      id: users.id,
      username: users.username,
      passwordHash: users.passwordHash,
      isAdmin: users.isAdmin,
      model: users.model,
      dailyLimit: users.dailyLimit,
      monthlyLimit: users.monthlyLimit,
      disabledAt: users.disabledAt,
      createdAt: users.createdAt,
      // Spelled out: drizzle leaves column names unqualified here, and inside the subquery an
      // unqualified "id" was the chat's own id, so every count was 0.
      chats: sql<number>`(select count(*)::int from chats c where c.user_id = users.id)`,
      sso: sql<boolean>`exists (select 1 from identities i where i.user_id = users.id)`,
    })
    .from(users)
    .orderBy(asc(users.username));
}

export async function findUser(db: Db, username: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.username, username));
  return user;
}

export async function getUser(db: Db, id: string): Promise<User | undefined> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}

/** Inserts a user; undefined when the username is taken. */
export async function insertUser(
  db: Db,
  values: { username: string; passwordHash: string; isAdmin: boolean },
): Promise<User | undefined> {
  const [user] = await db.insert(users).values(values).onConflictDoNothing().returning();
  return user;
}

/**
 * The first account, made only while there is none (under a transaction-wide lock, so two
 * set-up forms sent at once make one admin). It adopts chats made before accounts existed.
 */
export function insertFirstUser(db: Db, values: { username: string; passwordHash: string }): Promise<User | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7240001)`);
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    if (existing) return undefined;
    const [user] = await tx
      .insert(users)
      .values({ ...values, isAdmin: true })
      .returning();
    await tx.update(chats).set({ userId: user!.id }).where(isNull(chats.userId));
    return user;
  });
}

export async function setPasswordHash(db: Db, userId: string, passwordHash: string): Promise<boolean> {
  const rows = await db.update(users).set({ passwordHash }).where(eq(users.id, userId)).returning({ id: users.id });
  return rows.length > 0;
}

export async function setUserModel(db: Db, userId: string, model: string): Promise<void> {
  await db.update(users).set({ model }).where(eq(users.id, userId));
}

/** Disables an account (a time) or enables it again (null). */
export async function setDisabled(db: Db, id: string, at: Date | null): Promise<User | undefined> {
  const [row] = await db.update(users).set({ disabledAt: at }).where(eq(users.id, id)).returning();
  return row;
}

/** How many admins other than this one can still sign in. */
export function otherEnabledAdmins(db: Db, id: string): Promise<number> {
  return db
    .select({ n: sql<number>`count(*)::int` })
    .from(users)
    .where(and(eq(users.isAdmin, true), isNull(users.disabledAt), ne(users.id, id)))
    .then(([row]) => Number(row?.n ?? 0));
}

export async function deleteUser(db: Db, id: string): Promise<boolean> {
  const rows = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
  return rows.length > 0;
}

export async function insertSession(
  db: Db,
  values: { tokenHash: string; userId: string; userAgent: string | null; identityId?: string | null },
): Promise<Session> {
  const [session] = await db.insert(sessions).values(values).returning();
  return session!;
}

const session = preparedOnce((db: Db) =>
  db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.tokenHash, sql.placeholder("tokenHash")))
    .prepare("session_by_token"),
);

/** A session and its user, found by the hash of the cookie's token (on every request: prepared). */
export async function sessionByToken(db: Db, tokenHash: string): Promise<{ session: Session; user: User } | undefined> {
  const [row] = await session(db).execute({ tokenHash });
  return row;
}

export async function touchSession(db: Db, id: string): Promise<void> {
  await db.update(sessions).set({ lastSeenAt: new Date() }).where(eq(sessions.id, id));
}

export function userSessions(db: Db, userId: string): Promise<Session[]> {
  return db.select().from(sessions).where(eq(sessions.userId, userId)).orderBy(asc(sessions.id));
}

/** Deletes sessions and returns the ids that ended. */
export async function deleteSessions(
  db: Db,
  where: { ids: string[] } | { userId: string; except?: string },
): Promise<string[]> {
  const condition =
    "ids" in where
      ? inArray(sessions.id, where.ids)
      : where.except
        ? and(eq(sessions.userId, where.userId), ne(sessions.id, where.except))
        : eq(sessions.userId, where.userId);
  if ("ids" in where && !where.ids.length) return [];
  const rows = await db.delete(sessions).where(condition).returning({ id: sessions.id });
  return rows.map((r) => r.id);
}

export async function getSetting(db: Db, name: string): Promise<unknown> {
  const [row] = await db.select({ value: siteSettings.value }).from(siteSettings).where(eq(siteSettings.name, name));
  return row?.value;
}

export async function putSetting(db: Db, name: string, value: unknown): Promise<void> {
  await db
    .insert(siteSettings)
    .values({ name, value })
    .onConflictDoUpdate({ target: siteSettings.name, set: { value, updatedAt: new Date() } });
}

/** Sessions idle since `idleBefore` or made before `createdBefore` are over. */
export async function deleteExpiredSessions(db: Db, idleBefore: Date, createdBefore: Date): Promise<string[]> {
  const rows = await db
    .delete(sessions)
    .where(or(lt(sessions.lastSeenAt, idleBefore), lt(sessions.createdAt, createdBefore)))
    .returning({ id: sessions.id });
  return rows.map((r) => r.id);
}
