import type { Config } from "../config.ts";
import type { Claims } from "./client.ts";

/** What the provider's claims say about a person, in Parley's terms. Pure: no database. */

/**
 * The person's groups at the provider: the claim OIDC_GROUPS_CLAIM names, a list or a single
 * name. A dotted name reaches into an object when no claim has it whole (Keycloak's
 * `realm_access.roles`). No claim: no groups.
 */
export function groupsOf(claims: Claims, claim: string): string[] {
  let value: unknown = claims[claim];
  if (value === undefined && claim.includes(".")) {
    value = claim
      .split(".")
      .reduce<unknown>((at, key) => (at && typeof at === "object" ? (at as never)[key] : undefined), claims);
  }
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((g): g is string => typeof g === "string") : [];
}

const text = (v: unknown) => (typeof v === "string" && v.trim() ? v.trim() : undefined);

/** How the account page names the provider's account: its username there, else its e-mail. */
export function labelOf(claims: Claims): string {
  return (text(claims.preferred_username) ?? text(claims.email) ?? text(claims.name) ?? claims.sub).slice(0, 120);
}

/**
 * A Parley username for a new account, from the provider's username, else the e-mail's local
 * part, else the name: lowercased, anything a username may not hold made a dash. Only a
 * starting point: a taken name gets a number (see sso/repo.ts).
 */
export function usernameFrom(claims: Claims): string {
  const raw = text(claims.preferred_username) ?? text(claims.email)?.split("@")[0] ?? text(claims.name) ?? "";
  const name = raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[._-]+/, "")
    .slice(0, 32)
    .replace(/[._-]+$/, "");
  return name || "user";
}

/** Who the provider says the person is in Parley: admin or not (when OIDC_ADMIN_GROUP decides), and which mapped groups. */
export type Roles = {
  /** Undefined: OIDC_ADMIN_GROUP is unset, and the provider does not decide. */
  admin: boolean | undefined;
  /** Every Parley group OIDC_GROUP_MAP names: membership of these follows the provider. */
  managed: string[];
  /** Those of them the person belongs in now. */
  member: string[];
};

export function rolesOf(groups: string[], config: Pick<Config, "oidcAdminGroup" | "oidcGroupMap">): Roles {
  const theirs = new Set(groups);
  const managed = [...new Set(config.oidcGroupMap.map((m) => m.to))];
  const member = [...new Set(config.oidcGroupMap.filter((m) => theirs.has(m.from)).map((m) => m.to))];
  return { admin: config.oidcAdminGroup ? theirs.has(config.oidcAdminGroup) : undefined, managed, member };
}
