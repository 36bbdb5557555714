import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { unlessTaken } from "../db/errors.ts";
import { isId } from "../db/ids.ts";
import { type Group, groupMembers, groups, users } from "../db/schema.ts";

import type { GroupSummary, Member } from "./types.ts";

/** Every group by name, with how many people are in it. */
export function listGroups(db: Db): Promise<GroupSummary[]> {
  return db
    .select({
      id: groups.id,
      name: groups.name,
      allowedModels: groups.allowedModels,
      dailyLimit: groups.dailyLimit,
      monthlyLimit: groups.monthlyLimit,
      createdAt: groups.createdAt,
      // Spelled out: drizzle leaves column names unqualified in a select list, and "id" here would be m.id.
      members: sql<number>`(select count(*)::int from group_members m where m.group_id = "groups"."id")`,
    })
    .from(groups)
    .orderBy(sql`lower(${groups.name})`, asc(groups.id));
}

export async function getGroup(db: Db, id: unknown): Promise<Group | undefined> {
  if (!isId(id)) return undefined;
  const [row] = await db.select().from(groups).where(eq(groups.id, id));
  return row;
}

/** A new group; "taken" when another has that name (in any case). */
export async function insertGroup(db: Db, name: string): Promise<Group | "taken"> {
  const [row] = await db.insert(groups).values({ name }).onConflictDoNothing().returning();
  return row ?? "taken";
}

/** Renames a group; "taken" when another has that name, undefined when the group is gone. */
export async function renameGroup(db: Db, id: string, name: string): Promise<Group | "taken" | undefined> {
  const [clash] = await db
    .select({ id: groups.id })
    .from(groups)
    .where(and(sql`lower(${groups.name}) = lower(${name})`, sql`${groups.id} <> ${id}`));
  if (clash) return "taken";
  // Renamed elsewhere to this name since the check: the unique index says so.
  return unlessTaken(async () => {
    const [row] = await db.update(groups).set({ name }).where(eq(groups.id, id)).returning();
    return row;
  });
}

/** Deletes a group (its memberships go with it); false when it was gone. */
export async function deleteGroup(db: Db, id: string): Promise<boolean> {
  return (await db.delete(groups).where(eq(groups.id, id)).returning({ id: groups.id })).length > 0;
}

export async function updateGroup(
  db: Db,
  id: string,
  values: Partial<Pick<Group, "allowedModels" | "dailyLimit" | "monthlyLimit">>,
): Promise<Group | undefined> {
  const [row] = await db.update(groups).set(values).where(eq(groups.id, id)).returning();
  return row;
}

/** The people in a group, by username. */
export function membersOf(db: Db, groupId: string): Promise<Member[]> {
  return db
    .select({ id: users.id, username: users.username, isAdmin: users.isAdmin, disabledAt: users.disabledAt })
    .from(groupMembers)
    .innerJoin(users, eq(users.id, groupMembers.userId))
    .where(eq(groupMembers.groupId, groupId))
    .orderBy(asc(users.username));
}

/** Every person, by username (whom a group's page offers to add). */
export function everyone(db: Db): Promise<Member[]> {
  return db
    .select({ id: users.id, username: users.username, isAdmin: users.isAdmin, disabledAt: users.disabledAt })
    .from(users)
    .orderBy(asc(users.username));
}

export async function getPerson(db: Db, id: string): Promise<Member | undefined> {
  const [row] = await db
    .select({ id: users.id, username: users.username, isAdmin: users.isAdmin, disabledAt: users.disabledAt })
    .from(users)
    .where(eq(users.id, id));
  return row;
}

/** Puts a person in a group; false when they were in it already. */
export async function addMember(db: Db, groupId: string, userId: string): Promise<boolean> {
  const rows = await db
    .insert(groupMembers)
    .values({ groupId, userId })
    .onConflictDoNothing()
    .returning({ id: groupMembers.id });
  return rows.length > 0;
}

/** Takes a person out of a group; false when they were not in it. */
export async function removeMember(db: Db, groupId: string, userId: string): Promise<boolean> {
  const rows = await db
    .delete(groupMembers)
    .where(and(eq(groupMembers.groupId, groupId), eq(groupMembers.userId, userId)))
    .returning({ id: groupMembers.id });
  return rows.length > 0;
}

/** The allow-lists of a person's groups, one per group (null: that group restricts nothing). */
export async function allowListsOf(db: Db, userId: string): Promise<(string[] | null)[]> {
  const rows = await db
    .select({ list: groups.allowedModels })
    .from(groupMembers)
    .innerJoin(groups, eq(groups.id, groupMembers.groupId))
    .where(eq(groupMembers.userId, userId));
  return rows.map((r) => r.list);
}
