import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { chats, groupMembers, groups, type Identity, identities, type User, users } from "../db/schema.ts";

/** The account a provider's person (issuer + sub) is linked to, with the link. */
export async function findIdentity(
  db: Db,
  issuer: string,
  subject: string,
): Promise<{ identity: Identity; user: User } | undefined> {
  const [row] = await db
    .select({ identity: identities, user: users })
    .from(identities)
    .innerJoin(users, eq(users.id, identities.userId))
    .where(and(eq(identities.issuer, issuer), eq(identities.subject, subject)));
  return row;
}

/** A person's link to this provider, if they have one. */
export async function identityOf(db: Db, userId: string, issuer: string): Promise<Identity | undefined> {
  const [row] = await db
    .select()
    .from(identities)
    .where(and(eq(identities.userId, userId), eq(identities.issuer, issuer)));
  return row;
}

/** Links; undefined when that provider account, or this person's link to the provider, exists already. */
export async function insertIdentity(
  db: Db,
  values: { userId: string; issuer: string; subject: string; label: string },
): Promise<Identity | undefined> {
  const [row] = await db.insert(identities).values(values).onConflictDoNothing().returning();
  return row;
}

export async function touchIdentity(db: Db, id: string, label: string): Promise<void> {
  await db.update(identities).set({ label, lastSignedInAt: new Date() }).where(eq(identities.id, id));
}

export async function deleteIdentity(db: Db, userId: string, issuer: string): Promise<boolean> {
  const rows = await db
    .delete(identities)
    .where(and(eq(identities.userId, userId), eq(identities.issuer, issuer)))
    .returning({ id: identities.id });
  return rows.length > 0;
}

/**
 * A new account without a password, linked to the provider's person, in one transaction. The
 * first username free of `base`, `base-2`, `base-3`… is taken. Made while no account exists, it
 * is the first account: an admin (unless `admin` says otherwise), adopting chats made before
 * accounts existed, as set-up's would (same lock as auth/repo.ts insertFirstUser, which every
 * such creation takes). Undefined when the provider's person was linked meanwhile (two sign-ins at once).
 */
export function insertLinkedUser(
  db: Db,
  values: { base: string; admin: boolean | undefined; issuer: string; subject: string; label: string },
): Promise<{ user: User; identity: Identity; first: boolean } | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(7240001)`);
    const [linked] = await tx
      .select({ id: identities.id })
      .from(identities)
      .where(and(eq(identities.issuer, values.issuer), eq(identities.subject, values.subject)));
    if (linked) return undefined;
    const [existing] = await tx.select({ id: users.id }).from(users).limit(1);
    const first = !existing;
    const taken = new Set(
      (
        await tx
          .select({ username: users.username })
          .from(users)
          .where(sql`${users.username} = ${values.base} or ${users.username} like ${`${values.base}-%`}`)
      ).map((u) => u.username),
    );
    let username = values.base;
    for (let n = 2; taken.has(username); n++) username = `${values.base}-${n}`;
    const [user] = await tx
      .insert(users)
      .values({ username, passwordHash: null, isAdmin: values.admin ?? first })
      .returning();
    const [identity] = await tx
      .insert(identities)
      .values({ userId: user!.id, issuer: values.issuer, subject: values.subject, label: values.label })
      .returning();
    if (first) await tx.update(chats).set({ userId: user!.id }).where(isNull(chats.userId));
    return { user: user!, identity: identity!, first };
  });
}

/**
 * Makes the account what the provider says: admin or not (when decided), and in exactly those of
 * the `managed` Parley groups named in `member` (others untouched). Answers the managed groups
 * that do not exist (not made here: a new group would lift no limits but could widen the models
 * a person may use), and whether anything changed.
 */
export function applyRoles(
  db: Db,
  userId: string,
  roles: { admin: boolean | undefined; managed: string[]; member: string[] },
): Promise<{ missing: string[]; changed: string[] }> {
  return db.transaction(async (tx) => {
    const changed: string[] = [];
    if (roles.admin !== undefined) {
      const flipped = await tx
        .update(users)
        .set({ isAdmin: roles.admin })
        .where(and(eq(users.id, userId), sql`${users.isAdmin} <> ${roles.admin}`))
        .returning({ id: users.id });
      if (flipped.length) changed.push(roles.admin ? "made admin" : "no longer admin");
    }
    if (!roles.managed.length) return { missing: [], changed };
    const found = await tx
      .select({ id: groups.id, name: groups.name })
      .from(groups)
      .where(
        inArray(
          sql`lower(${groups.name})`,
          roles.managed.map((g) => g.toLowerCase()),
        ),
      );
    const byName = new Map(found.map((g) => [g.name.toLowerCase(), g]));
    const missing = roles.managed.filter((g) => !byName.has(g.toLowerCase()));
    const wanted = roles.member.map((g) => byName.get(g.toLowerCase())).filter((g) => g !== undefined);
    if (wanted.length) {
      const added = await tx
        .insert(groupMembers)
        .values(wanted.map((g) => ({ groupId: g.id, userId })))
        .onConflictDoNothing()
        .returning({ groupId: groupMembers.groupId });
      for (const a of added) changed.push(`added to ${found.find((g) => g.id === a.groupId)!.name}`);
    }
    const unwanted = found.filter((g) => !wanted.includes(g)).map((g) => g.id);
    if (unwanted.length) {
      const removed = await tx
        .delete(groupMembers)
        .where(and(eq(groupMembers.userId, userId), inArray(groupMembers.groupId, unwanted)))
        .returning({ groupId: groupMembers.groupId });
      for (const r of removed) changed.push(`taken out of ${found.find((g) => g.id === r.groupId)!.name}`);
    }
    return { missing, changed };
  });
}
