import type { Group } from "../db/schema.ts";

/** A group as the groups page lists it: with how many people are in it. */
export type GroupSummary = Group & { members: number };

/** A person as a group's page shows them. */
export type Member = { id: string; username: string; isAdmin: boolean; disabledAt: Date | null };
