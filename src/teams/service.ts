import { audit } from "../audit/log.ts";
import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { Group, User } from "../db/schema.ts";
import { parseAllowList } from "./access.ts";
import * as repo from "./repo.ts";

export const MAX_GROUP_NAME_LENGTH = 60;
/** The largest limit a group may have, in US dollars: more is a typo, not a budget. */
export const MAX_LIMIT_DOLLARS = 1_000_000;

/** A refused change, with the sentence to show. */
export class GroupError extends Error {}

export const NO_SUCH_GROUP = "There is no such group.";

function groupName(raw: unknown): string {
  const name = typeof raw === "string" ? raw.replaceAll("\0", "").replace(/\s+/g, " ").trim() : "";
  if (!name) throw new GroupError("Give the group a name.");
  if (name.length > MAX_GROUP_NAME_LENGTH) {
    throw new GroupError(`A group's name can be at most ${MAX_GROUP_NAME_LENGTH} characters long.`);
  }
  return name;
}

/** A limit in dollars as typed ("5", "$12.50", "1,000"); null when left empty (no limit from this group). */
export function parseLimit(raw: unknown, which: "daily" | "monthly"): number | null {
  const text = typeof raw === "string" ? raw.trim() : "";
  if (!text) return null;
  const plain = text.replace(/^\$/, "").replaceAll(",", "").trim();
  const shown = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  if (!/^-?\d+(\.\d+)?$|^-?\.\d+$/.test(plain)) {
    throw new GroupError(`The ${which} limit “${shown}” is not an amount in dollars; write it like 5 or 12.50.`);
  }
  const amount = Number(plain);
  if (amount < 0) throw new GroupError(`The ${which} limit cannot be negative; leave it empty for no limit.`);
  if (amount > MAX_LIMIT_DOLLARS) {
    throw new GroupError(`The ${which} limit can be at most $${MAX_LIMIT_DOLLARS.toLocaleString("en")}.`);
  }
  // Stored to the cent's hundredth (numeric(12, 4)).
  return Math.round(amount * 10_000) / 10_000;
}

const dollars = (n: number | null) => (n === null ? "none" : `$${n}`);

/**
 * Groups: the admin makes them, puts people in them, and gives each an allow-list of models and
 * limits (src/teams/access.ts reads the lists; the spending work reads the limits). Every change
 * is written to the audit log with who made it.
 */
export function createGroupService({ database }: { database: Database }) {
  const { db } = database;
  const log = (actor: User, action: string, target: string, detail?: Record<string, unknown>) =>
    audit(db, { actorId: actor.id, actorName: actor.username, action, target, detail });

  async function found(id: unknown): Promise<Group> {
    const group = await repo.getGroup(db, id);
    if (!group) throw new GroupError(NO_SUCH_GROUP);
    return group;
  }

  async function person(id: unknown) {
    const user = isId(id) ? await repo.getPerson(db, id) : undefined;
    if (!user) throw new GroupError("There is no such person.");
    return user;
  }

  const taken = (name: string) => new GroupError(`There is already a group named “${name}”; choose another name.`);

  return {
    list: () => repo.listGroups(db),

    /** A group with its members and who else could join it; undefined when there is no such group. */
    async page(id: unknown) {
      const group = await repo.getGroup(db, id);
      if (!group) return undefined;
      const [members, people] = await Promise.all([repo.membersOf(db, group.id), repo.everyone(db)]);
      const inGroup = new Set(members.map((m) => m.id));
      return { group, members, others: people.filter((p) => !inGroup.has(p.id)) };
    },

    async create(actor: User, rawName: unknown): Promise<Group> {
      const name = groupName(rawName);
      const group = await repo.insertGroup(db, name);
      if (group === "taken") throw taken(name);
      await log(actor, "group.create", `group “${name}”`);
      return group;
    },

    async rename(actor: User, id: unknown, rawName: unknown): Promise<Group> {
      const group = await found(id);
      const name = groupName(rawName);
      const renamed = await repo.renameGroup(db, group.id, name);
      if (renamed === "taken") throw taken(name);
      if (!renamed) throw new GroupError(NO_SUCH_GROUP);
      if (name !== group.name) await log(actor, "group.rename", `group “${group.name}” renamed “${name}”`);
      return renamed;
    },

    async remove(actor: User, id: unknown): Promise<void> {
      const group = await found(id);
      if (!(await repo.deleteGroup(db, group.id))) throw new GroupError(NO_SUCH_GROUP);
      await log(actor, "group.delete", `group “${group.name}”`);
    },

    async addMember(actor: User, id: unknown, userId: unknown): Promise<void> {
      const group = await found(id);
      const user = await person(userId);
      if (await repo.addMember(db, group.id, user.id)) {
        await log(actor, "group.member.add", `${user.username} added to group “${group.name}”`);
      }
    },

    async removeMember(actor: User, id: unknown, userId: unknown): Promise<void> {
      const group = await found(id);
      const user = await person(userId);
      if (await repo.removeMember(db, group.id, user.id)) {
        await log(actor, "group.member.remove", `${user.username} taken out of group “${group.name}”`);
      }
    },

    /** `mode` "every": the group restricts no model; "only": the patterns in `patterns`. */
    async setModels(actor: User, id: unknown, mode: unknown, rawPatterns: unknown): Promise<Group> {
      const group = await found(id);
      let list: string[] | null = null;
      if (mode === "only") {
        const parsed = parseAllowList(rawPatterns);
        if ("problem" in parsed) throw new GroupError(parsed.problem);
        list = parsed.patterns;
      }
      const saved = await repo.updateGroup(db, group.id, { allowedModels: list });
      if (!saved) throw new GroupError(NO_SUCH_GROUP);
      await log(
        actor,
        "group.models",
        list
          ? `group “${group.name}” allowed only ${list.length === 1 ? "1 pattern" : `${list.length} patterns`}`
          : `group “${group.name}” allowed every model`,
        { before: group.allowedModels, after: list },
      );
      return saved;
    },

    async setLimits(actor: User, id: unknown, rawDaily: unknown, rawMonthly: unknown): Promise<Group> {
      const group = await found(id);
      const dailyLimit = parseLimit(rawDaily, "daily");
      const monthlyLimit = parseLimit(rawMonthly, "monthly");
      const saved = await repo.updateGroup(db, group.id, { dailyLimit, monthlyLimit });
      if (!saved) throw new GroupError(NO_SUCH_GROUP);
      await log(
        actor,
        "group.limits",
        `group “${group.name}” limits: ${dollars(dailyLimit)} a day, ${dollars(monthlyLimit)} a month`,
        {
          before: { daily: group.dailyLimit, monthly: group.monthlyLimit },
          after: { daily: dailyLimit, monthly: monthlyLimit },
        },
      );
      return saved;
    },
  };
}

export type GroupService = ReturnType<typeof createGroupService>;
