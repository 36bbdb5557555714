/**
 * A real full disk: a small tmpfs of its own that a test fills to the last byte and frees again.
 * Only root may mount one (we run as root here and in CI); elsewhere `smallDiskUnavailable` says
 * why, and tests must say so loudly rather than pass without having run.
 */
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statfsSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive } from "./process.ts";

export type SmallDisk = {
  /** Where it is mounted; put DATA_DIR (or a cluster) in a folder under it. */
  path: string;
  /**
   * Writes a filler file until the disk has no byte left (ENOSPC), then gives back `leave` bytes
   * (a few KB lets a lock file be written while the database's next page cannot); returns the
   * bytes it holds.
   */
  fill(leave?: number): number;
  /** Deletes the filler: the room it took is free again. */
  free(): void;
  /** Bytes still free. */
  available(): number;
  /** Unmounts it (lazily if something still holds a file there) and removes the mount point. */
  unmount(): void;
};

/** Why a small disk cannot be mounted here, or undefined when it can. */
export function smallDiskUnavailable(): string | undefined {
  if (process.platform !== "linux") return "a tmpfs needs Linux";
  if (process.getuid?.() !== 0) {
    // `unshare -rm` would let a user mount one, but only for a child process, not for this test's own PGlite.
    return "mounting a tmpfs needs root (run the tests as root, as CI does)";
  }
  return undefined;
}

/**
 * Whether tests on a small disk can run here. Where they cannot it says why, loudly, and with
 * CI=true it throws: a full-disk test must never pass by not running.
 */
export function canMountSmallDisk(): boolean {
  const why = smallDiskUnavailable();
  if (!why) return true;
  const banner = `NO SMALL DISK: ${why}; the full-disk tests cannot run.`;
  process.stderr.write(`\n${"!".repeat(banner.length)}\n${banner}\n${"!".repeat(banner.length)}\n\n`);
  if (process.env.CI === "true") throw new Error(`CI=true requires the full-disk tests: ${why}.`);
  return false;
}

const mounted = new Set<string>();
// A test that throws before its afterAll must not leave mounts behind.
process.once("exit", () => {
  for (const path of mounted) Bun.spawnSync(["umount", "-l", path]);
});

/**
 * Unmounts small disks of test processes that are gone. A process can die without its "exit"
 * handlers (SIGKILL; a PGlite spinning after a PANIC ignores SIGTERM's default only if a handler
 * is installed, so none is).
 */
export function unmountOrphans() {
  const mounts = readFileSync("/proc/mounts", "utf8");
  for (const [, path, pid] of mounts.matchAll(/^tmpfs (\S*\/parley-disk-(\d+)-\w+) /gm)) {
    if (isAlive(pid!)) continue;
    Bun.spawnSync(["umount", "-l", path!]);
    rmSync(path!, { recursive: true, force: true });
  }
}

/** Mounts a tmpfs of `megabytes` at a new temporary folder. */
export function mountSmallDisk(megabytes: number): SmallDisk {
  const why = smallDiskUnavailable();
  if (why) throw new Error(`Cannot make a small disk: ${why}.`);
  unmountOrphans();
  const path = mkdtempSync(join(tmpdir(), `parley-disk-${process.pid}-`));
  const mount = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${megabytes}m,mode=0777`, "tmpfs", path]);
  if (mount.exitCode !== 0) {
    rmdirSync(path);
    throw new Error(`mount -t tmpfs failed: ${mount.stderr.toString().trim()}`);
  }
  mounted.add(path);
  const filler = join(path, "filler");
  return {
    path,
    fill(leave = 0) {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(1024 * 1024, 1);
      try {
        // A short write means the disk is nearly full; the next write fails with ENOSPC.
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
        const size = Math.max(0, fstatSync(fd).size - leave);
        if (leave > 0) ftruncateSync(fd, size);
        return size;
      } finally {
        closeSync(fd);
      }
    },
    free: () => rmSync(filler, { force: true }),
    available() {
      const s = statfsSync(path);
      return s.bavail * s.bsize;
    },
    unmount() {
      if (!mounted.delete(path)) return;
      const done = Bun.spawnSync(["umount", path]);
      if (done.exitCode !== 0) Bun.spawnSync(["umount", "-l", path]);
      rmdirSync(path);
    },
  };
}
