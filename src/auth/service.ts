import { type Actor, audit, auditBy } from "../audit/log.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { Session, User } from "../db/schema.ts";
import type { Logger } from "../log.ts";
import { AuthError, DISABLED, passwordsOff } from "./errors.ts";
import { RateLimit, tryAgainIn } from "./limits.ts";
import {
  hashPassword,
  normalizeUsername,
  passwordProblem,
  usernameProblem,
  verifyAgainstNobody,
  verifyPassword,
} from "./password.ts";
import * as repo from "./repo.ts";
import { signInThrottle } from "./throttle.ts";
import { hashToken, isToken, newToken } from "./tokens.ts";

const DAY = 24 * 60 * 60 * 1000;
// last_seen_at is written at most this often per session: idle lifetimes are in days, and a
// write per request would cost more than the check.
const TOUCH_EVERY_MS = 5 * 60 * 1000;
const QUARTER_HOUR = 15 * 60 * 1000;
/** Accounts one address may make per hour when sign-up is open. */
const SIGNUPS_PER_ADDRESS = 5;
/** Set-up forms one address may send in a quarter of an hour. */
const SETUPS_PER_ADDRESS = 10;
/** Wrong current passwords a signed-in person may give in a quarter of an hour when changing it. */
const PASSWORD_CHECKS_PER_ACCOUNT = 5;

export type SignedIn = { user: User; session: Session };

export type AuthServiceDeps = {
  database: Database;
  config: Config;
  log: Logger;
  /** Told which sessions ended, so their open sockets can be closed. */
  onSessionsEnded?: (sessionIds: string[]) => void;
  /** Stops a person's answers being written (before their account is deleted). */
  stopAnswersOf?: (userId: string) => Promise<void>;
  /** How a slowed sign-in waits (tests record the waits instead). */
  pause?: (ms: number) => Promise<unknown>;
};

/** Accounts, sessions and the sign-up switch; routes, the socket and the CLI call this. */
export function createAuthService({
  database,
  config,
  log,
  onSessionsEnded,
  stopAnswersOf,
  pause = Bun.sleep,
}: AuthServiceDeps) {
  const { db } = database;
  const signIns = signInThrottle();
  const signupsByAddress = new RateLimit(SIGNUPS_PER_ADDRESS, 4 * QUARTER_HOUR);
  const setupsByAddress = new RateLimit(SETUPS_PER_ADDRESS, QUARTER_HOUR);
  const passwordChecks = new RateLimit(PASSWORD_CHECKS_PER_ACCOUNT, QUARTER_HOUR);
  // Once an account exists it always will (the last admin cannot be deleted): no query needed.
  let hasUsers = false;
  // Set-ups run one at a time: the ones sent meanwhile then find the account made and are
  // refused before hashing anything.
  let setUpDone: Promise<unknown> = Promise.resolve();

  const ended = (ids: string[]) => {
    if (ids.length) onSessionsEnded?.(ids);
    return ids.length;
  };

  /** The username, once it and the password pass the policy (cheap checks: nothing is hashed yet). */
  async function checkNewAccount(rawUsername: unknown, password: unknown): Promise<string> {
    const username = normalizeUsername(rawUsername);
    const problem = usernameProblem(username) ?? (await passwordProblem(password, username));
    if (problem) throw new AuthError(problem);
    return username;
  }

  const taken = (username: string) => new AuthError(`The username "${username}" is taken.`, 409);
  const alreadySetUp = () => new AuthError("This Parley already has an account; sign in instead.", 409);

  /** A new account; `beforeHashing` may refuse (a limit) once everything cheap has passed. */
  async function addUser(rawUsername: unknown, password: unknown, isAdmin: boolean, beforeHashing = () => {}) {
    const username = await checkNewAccount(rawUsername, password);
    if (await repo.findUser(db, username)) throw taken(username);
    beforeHashing();
    const passwordHash = await hashPassword(password as string);
    const user = await repo.insertUser(db, { username, passwordHash, isAdmin });
    if (!user) throw taken(username);
    hasUsers = true;
    return user;
  }

  async function startSession(user: User, userAgent: string | null, identityId: string | null = null) {
    const { token, tokenHash } = newToken();
    const session = await repo.insertSession(db, {
      tokenHash,
      userId: user.id,
      userAgent: userAgent?.slice(0, 300) ?? null,
      identityId,
    });
    return { token, user, session };
  }

  const refusePasswords = () => {
    if (!config.passwordSignIn) throw new AuthError(passwordsOff(config.oidcLabel), 403);
  };

  const service = {
    /** True until the first account exists: the site then offers only to create it. */
    async needsSetup(): Promise<boolean> {
      if (hasUsers) return false;
      hasUsers = (await repo.countUsers(db)) > 0;
      return !hasUsers;
    },

    /**
     * The first account, an admin. Refused at once when any account exists, and limited per
     * address, before any password is hashed: hashing is what a flood of set-up forms would cost.
     */
    async setUp(rawUsername: unknown, password: unknown, address: string, userAgent: string | null) {
      refusePasswords();
      const wait = setupsByAddress.take(address);
      if (wait > 0) throw new AuthError(`Too many set-up attempts; try again ${tryAgainIn(wait)}.`, 429, wait);
      if (!(await service.needsSetup())) throw alreadySetUp();
      const username = await checkNewAccount(rawUsername, password);
      const made = setUpDone.then(async () => {
        if (!(await service.needsSetup())) throw alreadySetUp();
        const user = await repo.insertFirstUser(db, { username, passwordHash: await hashPassword(password as string) });
        if (!user) throw alreadySetUp();
        hasUsers = true;
        return user;
      });
      setUpDone = made.catch(() => {});
      const user = await made;
      log.info("first account created", { username });
      await audit(db, {
        actorId: user.id,
        actorName: user.username,
        action: "setup",
        target: user.username,
        ip: address,
      });
      return startSession(user, userAgent);
    },

    /** An account made by an admin (`by`) or from the command line. */
    async createUser(rawUsername: unknown, password: unknown, isAdmin = false, by?: Actor): Promise<User> {
      const user = await addUser(rawUsername, password, isAdmin);
      await auditBy(db, by, "user.create", user.username, { admin: isAdmin });
      return user;
    },

    /** Self-service sign-up, when the admin has allowed it. */
    async signUp(rawUsername: unknown, password: unknown, address: string, userAgent: string | null) {
      refusePasswords();
      if (!(await service.signupOpen())) throw new AuthError("Sign-up is closed; ask the admin for an account.", 403);
      // Counted before hashing, in the same step as the check (see RateLimit.take); a form
      // refused for a weak password or a taken name costs nothing and counts nothing.
      const user = await addUser(rawUsername, password, false, () => {
        const wait = signupsByAddress.take(address);
        if (wait > 0) {
          throw new AuthError(`Too many new accounts from your address; try again ${tryAgainIn(wait)}.`, 429, wait);
        }
      });
      log.info("signed up", { username: user.username, address });
      await audit(db, {
        actorId: user.id,
        actorName: user.username,
        action: "signup",
        target: user.username,
        ip: address,
      });
      return startSession(user, userAgent);
    },

    /**
     * Checks a password and starts a session with a new token. Attempts are limited per address
     * and slowed per account (see throttle.ts); past a limit the answer says when to try again,
     * whether or not the account exists, and the password is not even checked.
     */
    async signIn(rawUsername: unknown, password: unknown, address: string, userAgent: string | null) {
      refusePasswords();
      const username = normalizeUsername(rawUsername);
      const user = username && typeof password === "string" ? await repo.findUser(db, username) : undefined;
      // A new password (an admin's reset, `parley user reset-password`) starts the account's counts afresh.
      const attempt = signIns.begin(`${username}\n${user?.passwordHash?.slice(-16) ?? ""}`, address);
      if ("refusedForMs" in attempt) {
        const wait = attempt.refusedForMs;
        throw new AuthError(`Too many failed sign-ins; try again ${tryAgainIn(wait)}.`, 429, wait);
      }
      if (attempt.delayMs > 0) await pause(attempt.delayMs);
      const ok =
        typeof password === "string" && password.length <= 1024
          ? user?.passwordHash
            ? await verifyPassword(password, user.passwordHash)
            : // An account without a password (single sign-on only) answers as no account does.
              await verifyAgainstNobody(password)
          : false;
      if (!user || !ok) {
        log.info("sign-in failed", { username: username.slice(0, 40), address });
        // The name as typed (it may be no account's); never the password.
        await audit(db, {
          actorId: user?.id ?? null,
          actorName: username.slice(0, 40) || null,
          action: "signin.failed",
          detail: { reason: user ? "wrong password" : "no such account" },
          ip: address,
        });
        throw new AuthError("That username and password do not match an account.", 401);
      }
      attempt.succeeded();
      // Told only once the password matched: a guesser learns nothing about the account.
      if (user.disabledAt) {
        log.info("sign-in refused: account disabled", { username, address });
        throw new AuthError(DISABLED, 403);
      }
      log.info("signed in", { username, address });
      await audit(db, { actorId: user.id, actorName: user.username, action: "signin", ip: address });
      return startSession(user, userAgent);
    },

    /**
     * A session for someone the provider vouched for (src/sso), linked to that identity so that
     * signing out can offer the provider's sign-out too. A disabled account stays out.
     */
    async enterWithIdentity(user: User, identityId: string, address: string, userAgent: string | null) {
      if (user.disabledAt) {
        log.info("sign-in refused: account disabled", { username: user.username, address });
        throw new AuthError(DISABLED, 403);
      }
      log.info("signed in", { username: user.username, address, via: "sso" });
      await audit(db, {
        actorId: user.id,
        actorName: user.username,
        action: "signin",
        detail: { via: config.oidcLabel },
        ip: address,
      });
      return startSession(user, userAgent, identityId);
    },

    /** The signed-in person behind a cookie's token, or undefined when the session is over. */
    async authenticate(token: string | undefined): Promise<SignedIn | undefined> {
      if (!token || !isToken(token)) return undefined;
      const found = await repo.sessionByToken(db, hashToken(token));
      if (!found) return undefined;
      const now = Date.now();
      const { session } = found;
      // Disabling ends the sessions; one started meanwhile (a sign-in checking its password then) ends here.
      if (found.user.disabledAt) {
        ended(await repo.deleteSessions(db, { ids: [session.id] }));
        return undefined;
      }
      if (
        now - session.lastSeenAt.getTime() > config.sessionIdleDays * DAY ||
        now - session.createdAt.getTime() > config.sessionMaxDays * DAY
      ) {
        ended(await repo.deleteSessions(db, { ids: [session.id] }));
        return undefined;
      }
      if (now - session.lastSeenAt.getTime() > TOUCH_EVERY_MS) await repo.touchSession(db, session.id);
      return found;
    },

    /** Ends one session; `by` names who signed out, for the audit log. */
    async signOut(sessionId: string, by?: Actor): Promise<void> {
      ended(await repo.deleteSessions(db, { ids: [sessionId] }));
      if (by) await auditBy(db, by, "signout");
    },

    /** Ends every session of a person, or all but one (the one they are using). */
    async endSessions(userId: string, except?: string): Promise<number> {
      return ended(await repo.deleteSessions(db, { userId, except }));
    },

    sessions: (userId: string) => repo.userSessions(db, userId),

    /** The person changes their own password: their other sessions end, this one stays. */
    async changePassword(me: SignedIn, current: unknown, next: unknown): Promise<void> {
      // A stolen session must not become a way to guess the password: counted before the check.
      const wait = passwordChecks.take(me.user.id);
      if (wait > 0) {
        throw new AuthError(`Too many wrong current passwords; try again ${tryAgainIn(wait)}.`, 429, wait);
      }
      if (!me.user.passwordHash) {
        throw new AuthError(`Your account signs in with ${config.oidcLabel}; it has no password to change.`, 400);
      }
      if (typeof current !== "string" || !(await verifyPassword(current, me.user.passwordHash))) {
        throw new AuthError("The current password is not right.", 400);
      }
      passwordChecks.refund(me.user.id);
      const problem = await passwordProblem(next, me.user.username);
      if (problem) throw new AuthError(problem);
      await repo.setPasswordHash(db, me.user.id, await hashPassword(next as string));
      await service.endSessions(me.user.id, me.session.id);
    },

    /** An admin (by id) or the CLI (by name) sets someone's password: every session of theirs ends. */
    async resetPassword(who: { id: unknown } | { username: unknown }, password: unknown, by?: Actor): Promise<User> {
      const user =
        "id" in who
          ? isId(who.id)
            ? await repo.getUser(db, who.id)
            : undefined
          : await repo.findUser(db, normalizeUsername(who.username));
      if (!user) {
        throw new AuthError(
          "username" in who ? `There is no user "${normalizeUsername(who.username)}".` : "There is no such user.",
          400,
        );
      }
      const problem = await passwordProblem(password, user.username);
      if (problem) throw new AuthError(problem);
      await repo.setPasswordHash(db, user.id, await hashPassword(password as string));
      await service.endSessions(user.id);
      await auditBy(db, by, "user.password", user.username);
      return user;
    },

    listUsers: () => repo.listUsers(db),

    /**
     * Deletes an account with its chats and sessions. Nobody deletes themselves here. Their tabs
     * are closed first (no new sends), then their answers being written are stopped (an upstream
     * left streaming for a deleted chat goes on billing until it ends).
     */
    async deleteUser(me: User, id: unknown, ip?: string): Promise<void> {
      if (!isId(id)) throw new AuthError("There is no such user.", 400);
      if (id === me.id) throw new AuthError("You cannot delete your own account here.", 400);
      const gone = await repo.getUser(db, id);
      if (!gone) throw new AuthError("There is no such user.", 400);
      await service.endSessions(id);
      await stopAnswersOf?.(id);
      if (!(await repo.deleteUser(db, id))) throw new AuthError("There is no such user.", 400);
      await auditBy(db, { user: me, ip }, "user.delete", gone.username);
    },

    /**
     * An admin disables an account (or enables it again). Disabled, the person is out everywhere:
     * their sessions end (their tabs close, here and on other instances) and their answers being
     * written stop, keeping what streamed. Their chats and files are kept. Nobody disables
     * themselves, nor the last admin who can sign in.
     */
    async setDisabled(me: User, id: unknown, disabled: boolean): Promise<User> {
      const user = isId(id) ? await repo.getUser(db, id) : undefined;
      if (!user) throw new AuthError("There is no such user.", 400);
      if (disabled) {
        if (user.id === me.id) throw new AuthError("You cannot disable your own account.", 400);
        if (user.isAdmin && (await repo.otherEnabledAdmins(db, user.id)) === 0) {
          throw new AuthError(`${user.username} is the last admin who can sign in; they cannot be disabled.`, 400);
        }
      }
      if (Boolean(user.disabledAt) === disabled) return user;
      const saved = await repo.setDisabled(db, user.id, disabled ? new Date() : null);
      if (!saved) throw new AuthError("There is no such user.", 400);
      if (disabled) {
        await service.endSessions(user.id);
        await stopAnswersOf?.(user.id);
      }
      log.info(disabled ? "account disabled" : "account enabled", { username: user.username, by: me.username });
      await audit(db, {
        actorId: me.id,
        actorName: me.username,
        action: disabled ? "user.disable" : "user.enable",
        target: user.username,
      });
      return saved;
    },

    async signupOpen(): Promise<boolean> {
      return (await repo.getSetting(db, "signup_open")) === true;
    },

    async setSignupOpen(open: boolean, by?: Actor): Promise<void> {
      await repo.putSetting(db, "signup_open", open);
      await auditBy(db, by, open ? "signup.open" : "signup.close");
    },

    setModel: (userId: string, model: string) => repo.setUserModel(db, userId, model),

    /** Deletes sessions past their lifetimes (those nobody presents again would stay forever). */
    async sweep(): Promise<number> {
      const now = Date.now();
      return ended(
        await repo.deleteExpiredSessions(
          db,
          new Date(now - config.sessionIdleDays * DAY),
          new Date(now - config.sessionMaxDays * DAY),
        ),
      );
    },
  };
  return service;
}

export type AuthService = ReturnType<typeof createAuthService>;
