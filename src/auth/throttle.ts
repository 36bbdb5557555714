import { RateLimit } from "./limits.ts";

const WINDOW_MS = 15 * 60 * 1000;
/** Failed sign-ins one address may make in the window, whatever the accounts. */
export const FAILURES_PER_ADDRESS = 20;
/** Failed sign-ins one address may make for one account in the window. */
export const FAILURES_PER_ACCOUNT_FROM_ADDRESS = 5;
/** Failures an account takes, from anywhere, before each further try at it waits: 1, 2, 4, then 8 s. */
export const ACCOUNT_SLOWS_AFTER = 5;
const ACCOUNT_DELAYS = 4;

/** A sign-in attempt: refused outright, or let through (perhaps after a wait) and counted as failed until it succeeds. */
export type SignInAttempt = { refusedForMs: number } | { delayMs: number; succeeded(): void };

/**
 * Sign-in throttling that an attacker cannot turn against the account's owner (OWASP's
 * Authentication Cheat Sheet: lock-outs keyed to the account let anyone lock anyone out).
 * The hard limits are keyed to the address that makes the attempts, so they land on the attacker:
 * 20 failures per address, 5 per account from one address, in 15 minutes. Across addresses an
 * account is only slowed: past 5 failures each further attempt at it waits, doubling up to 8 s,
 * and is then checked, so the right password from elsewhere still gets in.
 *
 * Every attempt is counted *before* its password is checked, and given back when it succeeds:
 * a burst of concurrent attempts cannot all pass a check that none of them has been counted in.
 */
export function signInThrottle(now: () => number = Date.now) {
  const byAddress = new RateLimit(FAILURES_PER_ADDRESS, WINDOW_MS, now);
  const byAccountFromAddress = new RateLimit(FAILURES_PER_ACCOUNT_FROM_ADDRESS, WINDOW_MS, now);
  const byAccount = new RateLimit(ACCOUNT_SLOWS_AFTER + ACCOUNT_DELAYS - 1, WINDOW_MS, now);
  return {
    /** `account` names an account (with something of its password, so that a new password starts afresh). */
    begin(account: string, address: string): SignInAttempt {
      const pair = `${address}\n${account}`;
      const wait = Math.max(byAddress.wait(address), byAccountFromAddress.wait(pair));
      if (wait > 0) return { refusedForMs: wait };
      byAddress.hit(address);
      byAccountFromAddress.hit(pair);
      const before = byAccount.count(account);
      byAccount.hit(account);
      return {
        delayMs: before < ACCOUNT_SLOWS_AFTER ? 0 : 1000 * 2 ** (before - ACCOUNT_SLOWS_AFTER),
        succeeded() {
          // The address keeps its other failures: signing in to one's own account between guesses
          // at another's must not wipe them.
          byAddress.refund(address);
          byAccountFromAddress.reset(pair);
          byAccount.reset(account);
        },
      };
    },
  };
}
