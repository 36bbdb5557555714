import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../config.ts";

type Tool = "pg_dump" | "pg_restore";

/**
 * The tool on PATH, else the newest of Debian's versioned installs (the `postgresql` package
 * puts them in /usr/lib/postgresql/<version>/bin, not always on PATH).
 */
export function findPgTool(tool: Tool): string | undefined {
  const onPath = Bun.which(tool);
  if (onPath) return onPath;
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(root, v, "bin", tool)).find((path) => existsSync(path));
}

/**
 * Runs pg_dump or pg_restore against `url`. The password travels in PGPASSWORD, not on the
 * command line, where any user of the machine could read it in the process list.
 */
export async function runPgTool(tool: Tool, args: string[], url: string): Promise<void> {
  const path = findPgTool(tool);
  if (!path) {
    throw new ConfigError(
      `${tool} was not found on PATH or in /usr/lib/postgresql; install Postgres's client tools (apt-get install postgresql-client) of the server's major version or newer.`,
    );
  }
  const target = new URL(url);
  const password = decodeURIComponent(target.password);
  target.password = "";
  const proc = Bun.spawn([path, `--dbname=${target}`, "--no-password", ...args], {
    env: { ...process.env, ...(password ? { PGPASSWORD: password } : {}) },
    stdin: "ignore",
    stdout: "ignore",
    stderr: "pipe",
  });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const reason = stderr
      .split("\n")
      .map((line) => line.replace(/^\S+: (error|detail|hint): /i, "").trim())
      .filter(Boolean)
      .slice(0, 2)
      .join(" ");
    const hint = /version mismatch/.test(stderr)
      ? ` ${tool} must be of the server's major version or newer (${path} is too old).`
      : "";
    throw new ConfigError(`${tool} failed: ${reason || `exit code ${code}`}.${hint}`);
  }
}
