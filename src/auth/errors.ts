/** What sign-in and account changes refuse with: a sentence to show and the HTTP status that fits it. */

export const DISABLED = "This account is disabled; ask your admin.";
/** PASSWORD_SIGN_IN=false: the provider (OIDC_LABEL) is the only way in. */
export const passwordsOff = (label: string) => `Passwords are turned off here; sign in with ${label}.`;

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
