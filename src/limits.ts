/**
 * The limits a person meets that the pages announce (a field's maxlength, a hint) and the server
 * enforces: one definition for both sides. It imports nothing, so views may import it without
 * reaching a service (`npm run check` keeps it so). Rate limits live in auth/limits.ts; limits
 * only the server needs stay beside the code that enforces them.
 */

/** The longest message a person may send. */
export const MAX_MESSAGE_LENGTH = 32_000;

/** As long as a message may be: a long prompt is fine, a book is not. */
export const MAX_SYSTEM_PROMPT_LENGTH = 32_000;
export const MAX_TEMPERATURE = 2;

export const MIN_PASSWORD = 10;
// Long enough for any passphrase; short enough that hashing a hostile one costs nothing extra.
export const MAX_PASSWORD = 256;

/**
 * The largest file an import takes. The rest of the app takes bodies of at most 1 MiB (see app.ts),
 * and uploads of files their own limit (MAX_FILE_MB). An export carries its files in base64 (4/3
 * of their size), so this holds a chat with about 70 MB of files: three at the default file limit.
 * Not more, because the file is held in memory whole (about 2.75 times its size once parsed and
 * decoded, one import at a time) and parsed on the server's thread (see docs/performance.md).
 */
export const MAX_IMPORT_BYTES = 100 * 1024 * 1024;

/** "12.3 MB": sizes as people read them (MiB, called MB as most people do). */
export function megabytes(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${mb >= 10 ? Math.round(mb) : Math.round(mb * 10) / 10} MB`;
}

/** "340 bytes", "4.2 KB", "12 MB", "1.5 GB": a file's or a person's storage, as people read it (powers of 1024). */
export function fileSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? "" : "s"}`;
  const round = (n: number) => (n >= 10 ? Math.round(n) : Math.round(n * 10) / 10);
  if (bytes < 1024 * 1024) return `${round(bytes / 1024)} KB`;
  if (bytes < 1024 ** 3) return megabytes(bytes);
  return `${round(bytes / 1024 ** 3)} GB`;
}

/**
 * "$0.00005", "$0.0012", "$0.12", "$3.40": what answers cost, one rule for an answer and for a
 * chat's total, so the two never contradict. Below a dollar, two significant digits (answers
 * cost fractions of a cent, and a fixed number of decimals showed $0.0000 for one); from a dollar
 * on, cents. Under a millionth of a dollar is too little to name.
 */
export function dollars(amount: number): string {
  if (amount <= 0) return "$0";
  if (amount < 0.000001) return "<$0.000001";
  if (amount >= 1) return `$${amount.toFixed(2)}`;
  const decimals = 1 - Math.floor(Math.log10(amount));
  // Trailing zeros go, but not below cents: "$0.00005", "$0.50".
  return `$${amount.toFixed(decimals).replace(/(\.\d\d\d*?)0+$/, "$1")}`;
}

/**
 * The most files a project holds. Every one goes with every request of every chat in the project,
 * read from the database each time: more than a couple of dozen would rarely fit a model's
 * context anyway (the ones that do not are left out), and would make each send read them all.
 */
export const MAX_PROJECT_FILES = 20;

/** A personal API key's name, at most; and how many live keys one person may have. */
export const MAX_KEY_NAME = 60;
export const MAX_KEYS_PER_PERSON = 20;

/** The most chats one bulk action (the sidebar's Select: archive, delete, move) takes at once. */
export const MAX_BULK_CHATS = 500;
