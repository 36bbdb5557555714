import { audit } from "../audit/log.ts";
import { AuthError } from "../auth/errors.ts";
import { getUser } from "../auth/repo.ts";
import type { AuthService, SignedIn } from "../auth/service.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Identity } from "../db/schema.ts";
import type { Logger } from "../log.ts";
import { groupsOf, labelOf, rolesOf, usernameFrom } from "./claims.ts";
import { type Flow, type SsoClient, SsoError } from "./client.ts";
import * as repo from "./repo.ts";
import { linkRefusal, notLinked } from "./words.ts";

/** Linking or unlinking refused, with a code the account page turns back into the sentence (sso/words.ts). */
export class LinkRefused extends AuthError {
  constructor(
    readonly code: "linked-elsewhere" | "already-linked" | "no-other-way",
    label: string,
  ) {
    super(linkRefusal(code, label), 409);
  }
}

export type SsoServiceDeps = {
  database: Database;
  config: Config;
  log: Logger;
  auth: AuthService;
  client: SsoClient;
};

/** Where the browser came back to, and who it is (signed in already, when linking). */
export type Return = {
  callback: URL;
  flow: Flow;
  redirectUri: string;
  me: SignedIn | undefined;
  address: string;
  userAgent: string | null;
};

/**
 * Single sign-on with the OpenID provider at OIDC_ISSUER: signing in (a first sign-in makes the
 * account, when allowed), linking a password account, and keeping admin and groups as the
 * provider's claims say at every sign-in. Accounts are found by issuer + `sub`, never by e-mail.
 */
export function createSsoService({ database, config, log, auth, client }: SsoServiceDeps) {
  const { db } = database;
  const issuer = config.oidcIssuer!;
  const label = config.oidcLabel;

  /** The provider's claims, or an SsoError written to the log and the audit log. */
  async function claimsOf(back: Return) {
    try {
      return await client.finish(back.callback, back.flow, back.redirectUri);
    } catch (err) {
      if (!(err instanceof SsoError)) throw err;
      log.warn("single sign-on failed", {
        reason: err.reason,
        detail: err.detail,
        error: err.cause,
        address: back.address,
      });
      await audit(db, {
        actorId: back.me?.user.id ?? null,
        actorName: back.me?.user.username ?? null,
        action: "sso.refused",
        detail: { reason: err.reason, ...(err.detail ? { said: err.detail } : {}) },
        ip: back.address,
      });
      throw err;
    }
  }

  /** Admin and the mapped groups as the claims say; what changed goes to the audit log. */
  async function refreshRoles(userId: string, username: string, groups: string[], address: string) {
    const { missing, changed } = await repo.applyRoles(db, userId, rolesOf(groups, config));
    if (missing.length)
      log.warn("OIDC_GROUP_MAP names Parley groups that do not exist; make them on the Groups page", { missing });
    if (changed.length) {
      log.info("roles changed by single sign-on", { username, changed });
      await audit(db, {
        actorId: null,
        actorName: label,
        action: "sso.roles",
        target: username,
        detail: { changed },
        ip: address,
      });
    }
  }

  return {
    label,
    /** The provider's URL to send the browser to; an SsoError (logged) if it cannot be asked. */
    async begin(redirectUri: string, next: string, link: boolean) {
      try {
        return await client.begin(redirectUri, next, link);
      } catch (err) {
        if (err instanceof SsoError) {
          log.warn("single sign-on could not start", { reason: err.reason, detail: err.detail, error: err.cause });
        }
        throw err;
      }
    },
    signOutUrl: client.signOutUrl,

    /**
     * The browser is back from the provider. Linking: the provider's account is linked to the
     * signed-in person. Otherwise: the person linked to it is signed in (a first sign-in makes
     * the account, when OIDC_CREATE_ACCOUNTS allows or no account exists yet). Throws SsoError
     * or AuthError; neither leaves a session.
     */
    async finish(back: Return): Promise<{ linked: true } | { linked: false; token: string }> {
      const claims = await claimsOf(back);
      const groups = groupsOf(claims, config.oidcGroupsClaim);
      const name = labelOf(claims);
      const found = await repo.findIdentity(db, issuer, claims.sub);

      if (back.flow.link) {
        const me = back.me;
        if (!me) throw new AuthError("Sign in first, then link your account.", 401);
        if (found && found.user.id !== me.user.id) throw new LinkRefused("linked-elsewhere", label);
        if (!found) {
          const made = await repo.insertIdentity(db, { userId: me.user.id, issuer, subject: claims.sub, label: name });
          if (!made) throw new LinkRefused("already-linked", label);
          await audit(db, {
            actorId: me.user.id,
            actorName: me.user.username,
            action: "sso.link",
            target: name,
            ip: back.address,
          });
        }
        await refreshRoles(me.user.id, me.user.username, groups, back.address);
        return { linked: true };
      }

      let linked = found;
      if (!linked) {
        if (!config.oidcCreateAccounts && !(await auth.needsSetup())) throw new AuthError(notLinked(label), 403);
        const made = await repo.insertLinkedUser(db, {
          base: usernameFrom(claims),
          admin: rolesOf(groups, config).admin,
          issuer,
          subject: claims.sub,
          label: name,
        });
        if (made) {
          log.info("account created by single sign-on", { username: made.user.username, first: made.first });
          await audit(db, {
            actorId: made.user.id,
            actorName: made.user.username,
            action: made.first ? "setup" : "user.create",
            target: made.user.username,
            detail: { via: label },
            ip: back.address,
          });
        }
        linked = made ?? (await repo.findIdentity(db, issuer, claims.sub));
        if (!linked) throw new SsoError("token", "the account could not be made");
      }
      await repo.touchIdentity(db, linked.identity.id, name);
      if (!linked.user.disabledAt) await refreshRoles(linked.user.id, linked.user.username, groups, back.address);
      const user = (await getUser(db, linked.user.id)) ?? linked.user;
      const { token } = await auth.enterWithIdentity(user, linked.identity.id, back.address, back.userAgent);
      return { linked: false, token };
    },

    /** The person's link to the provider, for the account page. */
    identity: (userId: string): Promise<Identity | undefined> => repo.identityOf(db, userId, issuer),

    /** Unlinks; refused when the account has no password to sign in with afterwards. */
    async unlink(me: SignedIn, address: string): Promise<void> {
      if (!me.user.passwordHash || !config.passwordSignIn) throw new LinkRefused("no-other-way", label);
      const identity = await repo.identityOf(db, me.user.id, issuer);
      if (!identity || !(await repo.deleteIdentity(db, me.user.id, issuer))) return;
      await audit(db, {
        actorId: me.user.id,
        actorName: me.user.username,
        action: "sso.unlink",
        target: identity.label,
        ip: address,
      });
    },
  };
}

export type SsoService = ReturnType<typeof createSsoService>;
