/**
 * Who may be called what, and which passwords are accepted. Passwords are hashed with argon2id
 * (Bun.password, memory-hard) and checked in constant time by the same. Their strength is
 * estimated by zxcvbn-ts: a short list of common passwords let `1234512345` and `qwertyuiop1` through.
 */
import type { FeedbackType } from "@zxcvbn-ts/core";
import { MAX_PASSWORD, MIN_PASSWORD } from "../limits.ts";
import { estimateStrength } from "./strength.ts";

const USERNAME = /^[a-z0-9][a-z0-9._-]{0,39}$/;

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
export async function passwordProblem(password: unknown, username: string): Promise<string | undefined> {
  if (typeof password !== "string" || [...password].length < MIN_PASSWORD) {
    return `Choose a password of at least ${MIN_PASSWORD} characters; a few unrelated words make one that is easy to remember.`;
  }
  if (password.length > MAX_PASSWORD) return `A password can be at most ${MAX_PASSWORD} characters long.`;
  if (password.toLowerCase().includes(username) && username.length >= 3) {
    return "The password must not contain the username.";
  }
  const { score, feedback } = await estimateStrength(password, [username, "parley"]);
  return score < MIN_SCORE ? tooGuessable(feedback) : undefined;
}

/**
 * zxcvbn's score 3 means an estimated 10^8 guesses or more: out of reach of an online attack
 * held to the sign-in limits, while a few unrelated words still pass.
 */
const MIN_SCORE = 3;

// zxcvbn names what it found and what would help by key; these say it in our words.
const FOUND: Record<string, string> = {
  straightRow: "it is a row of keys on the keyboard",
  keyPattern: "it is a keyboard pattern",
  simpleRepeat: "it repeats one character",
  extendedRepeat: "it repeats a pattern",
  sequences: "it is a sequence like abc or 123",
  recentYears: "it contains a recent year",
  dates: "it contains a date",
  topTen: "it is among the ten most used passwords",
  topHundred: "it is among the hundred most used passwords",
  common: "it is a commonly used password",
  similarToCommon: "it is close to a commonly used password",
  wordByItself: "a single word is easy to guess",
  namesByThemselves: "a single name is easy to guess",
  commonNames: "common names are easy to guess",
  userInputs: "it contains the username or the site's name",
};
const MORE = "add a few less common words";
const ADVICE: Record<string, string> = {
  l33t: `${MORE} rather than swapping letters for look-alike symbols`,
  reverseWords: `${MORE} rather than spelling one backwards`,
  allUppercase: `${MORE}; capitals help little`,
  capitalization: `${MORE}; capitals help little`,
  dates: `leave out dates and years and ${MORE}`,
  recentYears: `leave out years and ${MORE}`,
  associatedYears: `leave out years and ${MORE}`,
  sequences: `leave out sequences and ${MORE}`,
  repeated: `leave out repetition and ${MORE}`,
  longerKeyboardPattern: `leave out keyboard patterns and ${MORE}`,
};

/** One sentence: what makes it guessable, and what to do instead. */
function tooGuessable(feedback: FeedbackType): string {
  const found = (feedback.warning && FOUND[feedback.warning]) || "it follows a pattern attackers try early";
  const advice = feedback.suggestions.map((s) => ADVICE[s]).find(Boolean) ?? MORE;
  return `That password is too easy to guess: ${found}; ${advice}.`;
}

/**
 * OWASP's first argon2id setting (19 MiB, 2 passes), which it rates as strong as its 46 MiB and
 * 64 MiB ones. Bun's default of 64 MiB per hash put a sign-in or two at a third of a 512 MB
 * server's memory (docs/footprint.md). Hashes made with other settings name them and still verify.
 */
export function hashPassword(password: string): Promise<string> {
  return Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 19_456, timeCost: 2 });
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
