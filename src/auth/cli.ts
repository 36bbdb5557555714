import type { Config } from "../config.ts";
import { migrate } from "../db/migrate.ts";
import { openConfigured } from "../db/template.ts";
import type { Logger } from "../log.ts";
import { AuthError } from "./errors.ts";
import { normalizeUsername, passwordProblem, usernameProblem } from "./password.ts";
import { createAuthService } from "./service.ts";

export const USER_HELP = `  user create NAME [--admin]   Create an account (the first one is always an
                               admin).
  user reset-password NAME     Set a new password for NAME and end all their
                               sessions. The password is read from standard
                               input when it is piped (echo "..." | parley user
                               create ann); on a terminal a strong one is
                               generated and printed once.`;

/**
 * `parley user ...`, for the admin locked out of the web page. With the embedded database, stop
 * the server first: one data directory serves one process.
 */
export async function userCommand(args: string[], config: Config, log: Logger): Promise<number> {
  const [action, rawName, ...flags] = args;
  if ((action !== "create" && action !== "reset-password") || !rawName) {
    process.stderr.write(`parley: usage:\n${USER_HELP}\n`);
    return 2;
  }
  const unknown = flags.filter((f) => !(action === "create" && f === "--admin"));
  if (unknown.length) {
    process.stderr.write(`parley: unknown option ${unknown[0]}; try "parley --help".\n`);
    return 2;
  }
  const { password, generated } = await readPassword();
  // Refused before the database is opened (a first start would create it; the embedded one takes
  // about a second to open). The service checks again, as it does for every other caller.
  const username = normalizeUsername(rawName);
  const problem =
    (action === "create" ? usernameProblem(username) : undefined) ?? (await passwordProblem(password, username));
  if (problem) {
    process.stderr.write(`parley: ${problem}\n`);
    return 1;
  }
  const database = await openConfigured(config);
  try {
    await migrate(database, config.databaseUrl);
    const auth = createAuthService({ database, config, log });
    const isFirst = await auth.needsSetup();
    const user =
      action === "create"
        ? await auth.createUser(rawName, password, isFirst || flags.includes("--admin"))
        : await auth.resetPassword({ username: rawName }, password);
    const what = action === "create" ? `created ${user.isAdmin ? "admin " : ""}account` : "new password set for";
    process.stdout.write(
      `${what} "${user.username}"${action === "reset-password" ? "; their sessions have ended" : ""}\n`,
    );
    if (generated)
      process.stdout.write(`password: ${password}\n(shown once; they can change it on their account page)\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof AuthError)) throw err;
    process.stderr.write(`parley: ${err.message}\n`);
    return 1;
  } finally {
    await database.close();
  }
}

/** The first line piped in, or on a terminal a generated password (nothing typed is echoed). */
async function readPassword(): Promise<{ password: string; generated: boolean }> {
  if (process.stdin.isTTY) {
    const password = Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString("base64url");
    return { password, generated: true };
  }
  const input = await new Response(Bun.stdin.stream()).text();
  return { password: input.split(/\r?\n/)[0] ?? "", generated: false };
}
