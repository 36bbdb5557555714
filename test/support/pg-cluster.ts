/**
 * A throwaway Postgres cluster of the installed binaries that a test may stop and start again on
 * the same port and data: a database server that really goes away and comes back. Postgres
 * refuses to run as root; the cluster runs as the `postgres` user then.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "./process.ts";

export type Cluster = {
  port: number;
  /** postgres:// URL of the cluster's `postgres` database (trust auth, user postgres). */
  adminUrl: string;
  /** The folder holding the data directory (`data`) and the socket. */
  dir: string;
  /**
   * Stops the server. `fast` ends every session with FATAL 57P01 and checkpoints; `immediate`
   * kills the backends at once (as a crash would), and the next start replays the WAL.
   */
  stop(mode?: "fast" | "immediate"): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  running(): boolean;
  /** The server's log so far (what it said when a disk filled, say). */
  log(): string;
  /** Stops it (immediate) and removes its files. */
  destroy(): Promise<void>;
  /**
   * Destroys it once process `pid` has ended, from a watchdog of its own: a test worker that
   * serves many files (bun test --no-isolate) has no hook that runs when it ends.
   */
  destroyAfter(pid: number): void;
};

export type ClusterOptions = {
  /** Where to make the cluster's folder (a mounted small disk, say); a new temporary one if not given. */
  parent?: string;
  /** Where to keep the WAL (initdb -X), to put only pg_wal on a small disk. */
  walDir?: string;
  /** Extra server settings (`-c name=value`). */
  settings?: Record<string, string>;
};

export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) if (existsSync(join(root, v, "bin", "initdb"))) return join(root, v, "bin");
  return undefined;
}

/**
 * Whether tests that run a Postgres cluster of their own can run here. Where they cannot it says
 * why, loudly, rather than let them pass without having run.
 */
export function canStartCluster(): boolean {
  if (postgresBinDir() !== undefined) return true;
  const banner =
    "NO POSTGRES PROGRAMS: no initdb under /usr/lib/postgresql (install postgresql); the tests that stop and start a Postgres of their own cannot run.";
  process.stderr.write(`\n${"!".repeat(banner.length)}\n${banner}\n${"!".repeat(banner.length)}\n\n`);
  return false;
}

const asPostgres = process.getuid?.() === 0;

/** The command as the user the cluster runs as. */
const asClusterUser = (cmd: string[]) => (asPostgres ? ["runuser", "-u", "postgres", "--", ...cmd] : cmd);

async function run(cmd: string[]) {
  const proc = Bun.spawn(asClusterUser(cmd), { stdout: "pipe", stderr: "pipe" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cmd[0]} failed: ${await new Response(proc.stderr).text()}`);
}

/** Hands a folder to the user the cluster runs as. */
export async function giveToPostgres(path: string) {
  chmodSync(path, 0o777);
  if (!asPostgres) return;
  const proc = Bun.spawn(["chown", "postgres", path]);
  if ((await proc.exited) !== 0) throw new Error(`chown postgres ${path} failed`);
}

/**
 * Stops and removes clusters whose test process is gone (killed, or timed out before its
 * afterAll): each would keep a server running. Their folders name the process that made them.
 */
async function removeOrphans(bin: string) {
  for (const name of readdirSync(tmpdir())) {
    const pid = /^parley-pg-(?:log-)?(\d+)-/.exec(name)?.[1];
    if (!pid || isAlive(pid)) continue;
    const data = join(tmpdir(), name, "data");
    if (existsSync(join(data, "postmaster.pid")))
      await run([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "stop"]).catch(() => {});
    rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Runs initdb and starts the server on a random free-looking port. */
export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const bin = postgresBinDir();
  if (!bin) throw new Error("no Postgres binaries under /usr/lib/postgresql");
  await removeOrphans(bin);
  const dir = mkdtempSync(join(opts.parent ?? tmpdir(), `parley-pg-${process.pid}-`));
  await giveToPostgres(dir);
  const data = join(dir, "data");
  // Kept off `parent`: on a full disk the server could not write what it says about it.
  const logDir = mkdtempSync(join(tmpdir(), `parley-pg-log-${process.pid}-`));
  await giveToPostgres(logDir);
  const logFile = join(logDir, "log");
  const initdb = [join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"];
  if (opts.walDir) {
    // initdb wants the WAL folder absent or empty, and ours to write.
    mkdirSync(opts.walDir, { recursive: true });
    await giveToPostgres(opts.walDir);
    initdb.push("-X", opts.walDir);
  }
  await run(initdb);
  const settings = Object.entries(opts.settings ?? {}).map(([k, v]) => ` -c ${k}=${v}`);
  let port = 0;
  let running = false;
  const pgCtl = (...args: string[]) => run([join(bin, "pg_ctl"), "-D", data, ...args]);
  const removed = [dir, logDir, ...(opts.walDir ? [opts.walDir] : [])];
  const immediateStop = ["-D", data, "-m", "immediate", "stop"];
  const start = async () => {
    await pgCtl(
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1${settings.join("")}`,
      "-w",
      "-l",
      logFile,
      "start",
    );
    running = true;
  };
  // A port someone else took shows as a failed start: try a few.
  for (let attempt = 0; ; attempt++) {
    port = 20000 + Math.floor(Math.random() * 20000);
    try {
      await start();
      break;
    } catch (err) {
      if (attempt === 4) throw err;
    }
  }
  return {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    dir,
    async stop(mode = "fast") {
      await pgCtl("-m", mode, "-w", "stop");
      running = false;
    },
    start,
    running: () => running,
    log: () => readFileSync(logFile, "utf8"),
    async destroy() {
      if (running) await run([join(bin, "pg_ctl"), ...immediateStop]).catch(() => {});
      running = false;
      for (const path of removed) rmSync(path, { recursive: true, force: true });
    },
    destroyAfter(pid) {
      const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
      const stop = asClusterUser([join(bin, "pg_ctl"), ...immediateStop]);
      const script = [
        `while kill -0 ${pid} 2>/dev/null; do sleep 1; done`,
        `${stop.map(quote).join(" ")} >/dev/null 2>&1`,
        `rm -rf ${removed.map(quote).join(" ")}`,
      ].join("; ");
      spawn("sh", ["-c", script], { detached: true, stdio: "ignore" }).unref();
    },
  };
}
