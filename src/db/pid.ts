import { readFileSync } from "node:fs";

/**
 * Whether a process exists and has not died. `kill(pid, 0)` alone also finds a zombie (killed but
 * not yet reaped by its parent, which in containers and exited shells can take seconds), and a
 * lock held by one would refuse a restart right after `kill -9`.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists, as another user's.
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  return !isZombie(pid);
}

/** State `Z` in /proc/PID/stat; where there is no /proc (macOS), no zombie can be told apart. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (command) state ...": the command may hold spaces and parentheses, so read after the last ")".
    return stat[stat.lastIndexOf(")") + 2] === "Z";
  } catch {
    return false;
  }
}
