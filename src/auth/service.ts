import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import { isId } from "../db/ids.ts";
import type { Session, User } from "../db/schema.ts";
import type { Logger } from "../log.ts";
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

const DAY = 24 * 60 * 60 * 1000;
// last_seen_at is written at most this often per session: idle lifetimes are in days, and a
// write per request would cost more than the check.
const TOUCH_EVERY_MS = 5 * 60 * 1000;
const FAILURES_WINDOW_MS = 15 * 60 * 1000;
const FAILURES_PER_ACCOUNT = 5;
const FAILURES_PER_ADDRESS = 20;
/** Accounts one address may make per hour when sign-up is open. */
const SIGNUPS_PER_ADDRESS = 5;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A refusal with the sentence to show and the HTTP status that fits it. */
export class AuthError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 401 | 403 | 409 | 429 = 400,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export type SignedIn = { user: User; session: Session };

export type AuthServiceDeps = {
  database: Database;
  config: Config;
  log: Logger;
  /** Told which sessions ended, so their open sockets can be closed. */
  onSessionsEnded?: (sessionIds: string[]) => void;
  /** Stops a person's answers being written (before their account is deleted). */
  stopAnswersOf?: (userId: string) => Promise<void>;
};

/** 32 random bytes: the cookie holds the token, the database only its SHA-256. */
function newToken(): { token: string; tokenHash: string } {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  return { token, tokenHash: hashToken(token) };
}

function hashToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}

/** Accounts, sessions and the sign-up switch; routes, the socket and the CLI call this. */
export function createAuthService({ database, config, log, onSessionsEnded, stopAnswersOf }: AuthServiceDeps) {
  const { db } = database;
  const failuresByAccount = new RateLimit(FAILURES_PER_ACCOUNT, FAILURES_WINDOW_MS);
  const failuresByAddress = new RateLimit(FAILURES_PER_ADDRESS, FAILURES_WINDOW_MS);
  const signupsByAddress = new RateLimit(SIGNUPS_PER_ADDRESS, 60 * 60 * 1000);
  // Once an account exists it always will (the last admin cannot be deleted): no query needed.
  let hasUsers = false;

  const ended = (ids: string[]) => {
    if (ids.length) onSessionsEnded?.(ids);
    return ids.length;
  };

  async function checkNewAccount(rawUsername: unknown, password: unknown): Promise<{ username: string; hash: string }> {
    const username = normalizeUsername(rawUsername);
    const problem = usernameProblem(username) ?? passwordProblem(password, username);
    if (problem) throw new AuthError(problem);
    return { username, hash: await hashPassword(password as string) };
  }

  async function startSession(user: User, userAgent: string | null) {
    const { token, tokenHash } = newToken();
    const session = await repo.insertSession(db, {
      tokenHash,
      userId: user.id,
      userAgent: userAgent?.slice(0, 300) ?? null,
    });
    return { token, user, session };
  }

  const service = {
    /** True until the first account exists: the site then offers only to create it. */
    async needsSetup(): Promise<boolean> {
      if (hasUsers) return false;
      hasUsers = (await repo.countUsers(db)) > 0;
      return !hasUsers;
    },

    /** The first account, an admin; refused once any account exists. */
    async setUp(rawUsername: unknown, password: unknown, userAgent: string | null) {
      const { username, hash } = await checkNewAccount(rawUsername, password);
      const user = await repo.insertFirstUser(db, { username, passwordHash: hash });
      if (!user) throw new AuthError("This Parley already has an account; sign in instead.", 409);
      hasUsers = true;
      log.info("first account created", { username });
      return startSession(user, userAgent);
    },

    async createUser(rawUsername: unknown, password: unknown, isAdmin = false): Promise<User> {
      const { username, hash } = await checkNewAccount(rawUsername, password);
      const user = await repo.insertUser(db, { username, passwordHash: hash, isAdmin });
      if (!user) throw new AuthError(`The username "${username}" is taken.`, 409);
      hasUsers = true;
      return user;
    },

    /** Self-service sign-up, when the admin has allowed it. */
    async signUp(rawUsername: unknown, password: unknown, address: string, userAgent: string | null) {
      if (!(await service.signupOpen())) throw new AuthError("Sign-up is closed; ask the admin for an account.", 403);
      const wait = signupsByAddress.wait(address);
      if (wait > 0) {
        throw new AuthError(`Too many new accounts from your address; try again ${tryAgainIn(wait)}.`, 429, wait);
      }
      const user = await service.createUser(rawUsername, password);
      signupsByAddress.hit(address);
      log.info("signed up", { username: user.username, address });
      return startSession(user, userAgent);
    },

    /**
     * Checks a password and starts a session with a new token. Failures are counted per account
     * and per address; past the limit the answer says when to try again, whether or not the
     * account exists, and the password is not even checked.
     */
    async signIn(rawUsername: unknown, password: unknown, address: string, userAgent: string | null) {
      const username = normalizeUsername(rawUsername);
      const wait = Math.max(failuresByAccount.wait(username), failuresByAddress.wait(address));
      if (wait > 0) {
        throw new AuthError(`Too many failed sign-ins; try again ${tryAgainIn(wait)}.`, 429, wait);
      }
      const user = username && typeof password === "string" ? await repo.findUser(db, username) : undefined;
      const ok =
        typeof password === "string" && password.length <= 1024
          ? user
            ? await verifyPassword(password, user.passwordHash)
            : await verifyAgainstNobody(password)
          : false;
      if (!user || !ok) {
        failuresByAccount.hit(username);
        failuresByAddress.hit(address);
        log.info("sign-in failed", { username: username.slice(0, 40), address });
        throw new AuthError("That username and password do not match an account.", 401);
      }
      failuresByAccount.reset(username);
      log.info("signed in", { username, address });
      return startSession(user, userAgent);
    },

    /** The signed-in person behind a cookie's token, or undefined when the session is over. */
    async authenticate(token: string | undefined): Promise<SignedIn | undefined> {
      if (!token || !TOKEN.test(token)) return undefined;
      const found = await repo.sessionByToken(db, hashToken(token));
      if (!found) return undefined;
      const now = Date.now();
      const { session } = found;
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

    async signOut(sessionId: string): Promise<void> {
      ended(await repo.deleteSessions(db, { ids: [sessionId] }));
    },

    /** Ends every session of a person, or all but one (the one they are using). */
    async endSessions(userId: string, except?: string): Promise<number> {
      return ended(await repo.deleteSessions(db, { userId, except }));
    },

    sessions: (userId: string) => repo.userSessions(db, userId),

    /** The person changes their own password: their other sessions end, this one stays. */
    async changePassword(me: SignedIn, current: unknown, next: unknown): Promise<void> {
      if (typeof current !== "string" || !(await verifyPassword(current, me.user.passwordHash))) {
        throw new AuthError("The current password is not right.", 400);
      }
      const problem = passwordProblem(next, me.user.username);
      if (problem) throw new AuthError(problem);
      await repo.setPasswordHash(db, me.user.id, await hashPassword(next as string));
      await service.endSessions(me.user.id, me.session.id);
    },

    /** An admin (by id) or the CLI (by name) sets someone's password: every session of theirs ends. */
    async resetPassword(who: { id: unknown } | { username: unknown }, password: unknown): Promise<User> {
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
      const problem = passwordProblem(password, user.username);
      if (problem) throw new AuthError(problem);
      await repo.setPasswordHash(db, user.id, await hashPassword(password as string));
      failuresByAccount.reset(user.username);
      await service.endSessions(user.id);
      return user;
    },

    listUsers: () => repo.listUsers(db),

    /**
     * Deletes an account with its chats and sessions. Nobody deletes themselves here. Their tabs
     * are closed first (no new sends), then their answers being written are stopped (an upstream
     * left streaming for a deleted chat goes on billing until it ends).
     */
    async deleteUser(me: User, id: unknown): Promise<void> {
      if (!isId(id)) throw new AuthError("There is no such user.", 400);
      if (id === me.id) throw new AuthError("You cannot delete your own account here.", 400);
      if (!(await repo.getUser(db, id))) throw new AuthError("There is no such user.", 400);
      await service.endSessions(id);
      await stopAnswersOf?.(id);
      if (!(await repo.deleteUser(db, id))) throw new AuthError("There is no such user.", 400);
    },

    async signupOpen(): Promise<boolean> {
      return (await repo.getSetting(db, "signup_open")) === true;
    },

    setSignupOpen: (open: boolean) => repo.putSetting(db, "signup_open", open),

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
