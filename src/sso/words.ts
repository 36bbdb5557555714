import type { SsoFailure } from "./client.ts";

/** The sentence a person gets on the sign-in page for each way single sign-on can fail. */
export function failureSentence(reason: SsoFailure, label: string, detail?: string): string {
  switch (reason) {
    case "unreachable":
      return `${label} could not be reached, so you are not signed in. Try again in a moment; if it goes on, tell your admin.`;
    case "setup":
      return `Signing in with ${label} is not set up right: Parley could not read its OpenID configuration. Tell your admin; Parley's log says why.`;
    case "secret":
      return `${label} refused Parley's client credentials, so nobody can sign in with it until your admin corrects OIDC_CLIENT_ID or OIDC_CLIENT_SECRET.`;
    case "refused":
      return `You did not allow Parley to sign you in with ${label}, so you are not signed in.`;
    case "provider":
      return `${label} refused the sign-in${detail ? `: ${detail}` : ""}.`;
    case "state":
      return "This sign-in does not match the one this browser started (it may be forged, or from another tab), so nobody was signed in. Start again.";
    case "code":
      return `The sign-in code from ${label} had expired or was already used, so nobody was signed in. Start again.`;
    case "audience":
      return `${label} sent a token meant for another application, so nobody was signed in. Tell your admin: OIDC_CLIENT_ID may not be this Parley's.`;
    case "expired":
      return `${label}'s token had expired (or this server's clock is wrong), so nobody was signed in. Start again; if it goes on, tell your admin.`;
    case "keys":
      return `${label}'s token was signed with a key Parley does not know yet (the provider may have just changed its keys), so nobody was signed in. Try again in a minute.`;
    case "token":
      return `${label}'s answer could not be verified, so nobody was signed in. Your admin can find why in Parley's log.`;
  }
}

/** The browser came back without the sign-in it started (replayed, or older than ten minutes). */
export const STALE = "This sign-in has expired or was already used, so nobody was signed in. Start again.";

export const notLinked = (label: string) =>
  `No Parley account is linked to your ${label} account. Sign in with your password and link it from your account page, or ask your admin for an account.`;

export const linkedElsewhere = (label: string) =>
  `That ${label} account is already linked to another Parley account; nothing was changed.`;

export const alreadyLinked = (label: string) =>
  `Your account is already linked to a ${label} account; unlink it first to link another.`;

export const noOtherWayIn = (label: string) =>
  `Unlinking ${label} would leave you no way to sign in: your account has no password, or passwords are turned off here.`;

export type LinkRefusalCode = "linked-elsewhere" | "already-linked" | "no-other-way";

export function linkRefusal(code: LinkRefusalCode, label: string): string {
  if (code === "linked-elsewhere") return linkedElsewhere(label);
  if (code === "already-linked") return alreadyLinked(label);
  return noOtherWayIn(label);
}

const FAILURES: readonly SsoFailure[] = [
  "unreachable",
  "setup",
  "secret",
  "refused",
  "provider",
  "state",
  "code",
  "audience",
  "expired",
  "keys",
  "token",
];
const REFUSALS: readonly string[] = ["linked-elsewhere", "already-linked", "no-other-way"];

/** Why linking failed, carried back to the account page by code (never as text in the URL). */
export function ssoRefusal(code: unknown, label: string): string | undefined {
  if (typeof code !== "string") return undefined;
  if ((FAILURES as readonly string[]).includes(code)) return failureSentence(code as SsoFailure, label);
  if (REFUSALS.includes(code)) return linkRefusal(code as LinkRefusalCode, label);
  return undefined;
}
