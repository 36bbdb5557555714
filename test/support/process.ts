import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Subprocess } from "bun";

const CLI = resolve(import.meta.dir, "../../src/cli.ts");

export type Parley = {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Parsed JSON log lines seen so far. */
  logs: Record<string, unknown>[];
  url: string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
};

/**
 * The command that runs Parley: the compiled binary when PARLEY_BIN is set (npm test builds it
 * first), else the sources. Resolved from where the tests run: some start Parley in another folder.
 */
export function parleyCommand(args: string[] = []): string[] {
  const binary = process.env.PARLEY_BIN;
  return binary ? [resolve(binary), ...args] : [process.execPath, CLI, ...args];
}

/** Runs a Parley command to completion, with `input` on its standard input. */
export async function runParley(args: string[], env: Record<string, string>, cwd?: string, input?: string) {
  const proc = Bun.spawn(parleyCommand(args), {
    env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", ...env },
    cwd,
    stdin: input === undefined ? "ignore" : new TextEncoder().encode(input),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** Starts `parley serve` on a free port and waits until it logs that it listens. */
export async function startParley(env: Record<string, string>, cwd?: string): Promise<Parley> {
  const proc = Bun.spawn(parleyCommand(["serve"]), {
    env: { PATH: process.env.PATH ?? "", LOG_FORMAT: "json", PORT: "0", ...env },
    cwd,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const logs: Record<string, unknown>[] = [];
  let stderr = "";
  void new Response(proc.stderr).text().then((t) => (stderr = t));
  let drained: Promise<void> = Promise.resolve();
  const url = await new Promise<string>((resolveUrl, reject) => {
    const decoder = new TextDecoder();
    let buffer = "";
    drained = (async () => {
      const reader = proc.stdout.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        buffer += decoder.decode(read.value, { stream: true });
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 1);
          try {
            const entry = JSON.parse(line);
            logs.push(entry);
            if (entry.event === "listening") resolveUrl(entry.url);
          } catch {
            logs.push({ unparsed: line });
          }
        }
      }
      await proc.exited;
      reject(new Error(`parley exited (${proc.exitCode}) before listening: ${stderr}`));
    })();
  });
  return {
    proc,
    logs,
    url,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      await drained; // every line it wrote is in `logs`
      return code;
    },
  };
}

/** Signs `username` in on a running Parley over HTTP, as a browser's form would; the session cookie. */
export async function signInAt(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/signin`, {
    method: "POST",
    headers: { Origin: url },
    body: new URLSearchParams({ username, password }),
    redirect: "manual",
  });
  const cookie = res.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error(`signing ${username} in at ${url} failed (${res.status})`);
  return cookie;
}

/** Reads until `done` says so (another process's work shows up in the database in its own time). */
export async function until<T>(read: () => Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 1200; i++) {
    const value = await read();
    if (done(value)) return value;
    await Bun.sleep(25);
  }
  throw new Error(`${what} never happened`);
}

/** Whether a process runs; a zombie (killed, not yet reaped: state Z in /proc) does not. */
export function isAlive(pid: number | string): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
