/**
 * Who may be called what, and which passwords are accepted. Passwords are hashed with argon2id
 * (Bun.password, memory-hard) and checked in constant time by the same.
 */

export const MIN_PASSWORD = 10;
// Long enough for any passphrase; short enough that hashing a hostile one costs nothing extra.
export const MAX_PASSWORD = 256;

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,39}$/;

// The few long passwords every guessing list starts with.
const COMMON = new Set([
  "1234567890",
  "0123456789",
  "12345678910",
  "123456789a",
  "1q2w3e4r5t",
  "1qaz2wsx3edc",
  "password12",
  "password123",
  "password1234",
  "passw0rd123",
  "qwertyuiop",
  "qwerty1234",
  "qwerty12345",
  "asdfghjkl;",
  "abcdefghij",
  "abc1234567",
  "iloveyou12",
  "letmein123",
  "welcome123",
  "admin12345",
  "administrator",
  "changeme123",
  "parleyparley",
]);

/** Usernames are compared and stored lowercased and trimmed. */
export function normalizeUsername(raw: unknown): string {
  return typeof raw === "string" ? raw.trim().toLowerCase() : "";
}

/** Why a username cannot be used, or undefined when it can. */
export function usernameProblem(username: string): string | undefined {
  if (!USERNAME.test(username)) {
    return "A username is 1 to 40 letters, digits, dots, dashes or underscores, starting with a letter or digit.";
  }
  return undefined;
}

/** Why a password is refused, or undefined when it is accepted. */
export function passwordProblem(password: unknown, username: string): string | undefined {
  if (typeof password !== "string" || [...password].length < MIN_PASSWORD) {
    return `Choose a password of at least ${MIN_PASSWORD} characters; a few unrelated words make one that is easy to remember.`;
  }
  if (password.length > MAX_PASSWORD) return `A password can be at most ${MAX_PASSWORD} characters long.`;
  const lower = password.toLowerCase();
  if (lower.includes(username) && username.length >= 3) return "The password must not contain the username.";
  if (new Set(lower).size < 4 || COMMON.has(lower)) {
    return "That password is among the first any attacker tries; choose a less common one.";
  }
  return undefined;
}

export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id" });
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  try {
    return await Bun.password.verify(password, hash);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | undefined;

/**
 * Checking a password for a username that does not exist takes as long as for one that does,
 * so response times do not reveal which accounts exist.
 */
export async function verifyAgainstNobody(password: string): Promise<false> {
  dummy ??= hashPassword("no account has this password");
  await verifyPassword(password, await dummy);
  return false;
}
