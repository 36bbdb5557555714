/**
 * What the tests need from the machine, found and installed before they run: `npm test` runs
 * this first (the `pretest` script), `npm run smoke` runs it with `smoke`. Whatever is missing it
 * installs with apt-get, as root or through sudo; where it cannot, it stops at once with the one
 * command to run. When everything is there it only looks at a few paths.
 * Usage: bun test/prerequisites.ts [test|smoke]
 */
import { existsSync, readFileSync } from "node:fs";
import { postgresBinDir } from "./support/pg-cluster.ts";

export type Need = {
  /** What the person reads: "Chromium". */
  name: string;
  /** The package that brings it on Debian, and on Ubuntu when that differs (null: none that works). */
  debian: string;
  ubuntu?: string | null;
  found(): boolean;
};

// The path test/support/browser.ts launches.
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// The PATH test/smoke-binary.ts gives the binary it isolates.
const SMOKE_PATH = "/usr/bin:/bin:/usr/sbin:/sbin";

export const NEEDS: Record<"test" | "smoke", Need[]> = {
  test: [
    { name: "Chromium", debian: "chromium", ubuntu: null, found: () => existsSync(chromium) },
    { name: "Caddy", debian: "caddy", found: () => Bun.which("caddy") !== null },
    { name: "the Postgres server", debian: "postgresql", found: () => postgresBinDir() !== undefined },
  ],
  smoke: [
    { name: "curl", debian: "curl", found: () => Bun.which("curl", { PATH: SMOKE_PATH }) !== null },
    { name: "ip", debian: "iproute2", found: () => Bun.which("ip", { PATH: SMOKE_PATH }) !== null },
  ],
};

export type Machine = {
  ubuntu: boolean;
  apt: boolean;
  root: boolean;
  /** "none": no sudo; "nopasswd": sudo works without asking; "password": it would ask. */
  sudo: "none" | "nopasswd" | "password";
  /** Whether someone is at a terminal who can type sudo's password. */
  interactive: boolean;
  /** Set when CHROMIUM_PATH names the browser: then it is not ours to install. */
  chromiumPath?: string;
};

export type Plan =
  | { kind: "install"; argv: string[]; command: string; packages: string[]; asks: boolean; note?: string }
  | { kind: "stop"; message: string };

const list = (names: string[]) =>
  names.length < 2 ? names.join("") : `${names.slice(0, -1).join(", ")} and ${names.at(-1)}`;

const APT = ["apt-get", "install", "-y", "--no-install-recommends"];

/** What to do about the missing needs on this machine: install them, or stop and say what to run. */
export function plan(missing: Need[], machine: Machine): Plan {
  const packages: string[] = [];
  const notes: string[] = [];
  for (const need of missing) {
    const pkg = machine.ubuntu && need.ubuntu !== undefined ? need.ubuntu : need.debian;
    if (need.debian === "chromium" && machine.chromiumPath) {
      notes.push(`CHROMIUM_PATH is ${machine.chromiumPath}, and nothing is there: point it at a Chromium or Chrome.`);
    } else if (pkg === null) {
      notes.push(
        "Ubuntu has Chromium only as a snap (apt's chromium-browser installs the snap), which does not run in " +
          "containers and is not what the tests use: install Google Chrome's .deb or another Chromium that is not " +
          "a snap, and set CHROMIUM_PATH to it (CHROMIUM_PATH=/usr/bin/google-chrome npm test).",
      );
    } else packages.push(pkg);
  }
  const note = notes.length ? notes.join("\n") : undefined;
  const after = note ? `\n${note}` : "";
  const names = list(missing.map((need) => need.name));
  const needed = `${names} ${missing.length > 1 ? "are" : "is"} not installed.`;
  if (packages.length === 0) return { kind: "stop", message: `${needed}${after}` };
  const install = [...APT, ...packages].join(" ");
  const viaSudo = !machine.root && machine.sudo !== "none";
  const command = viaSudo ? `sudo ${install}` : install;
  if (!machine.apt) {
    return {
      kind: "stop",
      message: `${needed} Install them with your package manager (on Debian: ${command}).${after}`,
    };
  }
  if (machine.root || machine.sudo === "nopasswd" || (machine.sudo === "password" && machine.interactive)) {
    // A fresh container has no package lists, and old ones can name files the mirror no longer has.
    const argv = ["env", "DEBIAN_FRONTEND=noninteractive", "sh", "-c", `apt-get update -qq && ${install}`];
    return {
      kind: "install",
      argv: machine.root ? argv : ["sudo", ...argv],
      command,
      packages,
      asks: machine.sudo === "password",
      note,
    };
  }
  return {
    kind: "stop",
    message: `${needed} Run${viaSudo ? "" : " as root"}:\n  ${command}${after}`,
  };
}

function machine(): Machine {
  const osRelease = existsSync("/etc/os-release") ? readFileSync("/etc/os-release", "utf8") : "";
  const root = process.getuid?.() === 0;
  let sudo: Machine["sudo"] = "none";
  if (!root && Bun.which("sudo")) {
    sudo = Bun.spawnSync(["sudo", "-n", "true"], { stdout: "ignore", stderr: "ignore" }).success
      ? "nopasswd"
      : "password";
  }
  return {
    ubuntu: /^ID(_LIKE)?=.*\bubuntu\b/m.test(osRelease),
    apt: Bun.which("apt-get") !== null,
    root,
    sudo,
    interactive: process.stdin.isTTY === true && process.env.CI !== "true",
    chromiumPath: process.env.CHROMIUM_PATH,
  };
}

function main() {
  const which = process.argv[2] ?? "test";
  if (!Object.hasOwn(NEEDS, which)) throw new Error("Usage: bun test/prerequisites.ts [test|smoke]");
  const needs = NEEDS[which as keyof typeof NEEDS];
  const missing = needs.filter((need) => !need.found());
  if (missing.length === 0) return;
  const todo = plan(missing, machine());
  const again = `Then ${which === "test" ? "npm test" : `npm run ${which}`} again.`;
  if (todo.kind === "stop") {
    process.stderr.write(`\n${todo.message}\n${again}\n\n`);
    process.exit(1);
  }
  const started = performance.now();
  const how = todo.asks ? "; sudo will ask for your password" : "";
  process.stderr.write(`\nInstalling what the tests need (a minute or two${how}):\n  ${todo.command}\n`);
  const apt = Bun.spawnSync(todo.argv, { stdin: "inherit", stdout: "inherit", stderr: "inherit" });
  const still = needs.filter((need) => !need.found());
  if (!apt.success || still.some((need) => todo.packages.includes(need.debian))) {
    process.stderr.write(`\nThe install failed; run it yourself:\n  ${todo.command}\n${again}\n\n`);
    process.exit(1);
  }
  process.stderr.write(`Installed in ${Math.round((performance.now() - started) / 1000)} s.\n\n`);
  if (todo.note) {
    process.stderr.write(`${todo.note}\n${again}\n\n`);
    process.exit(1);
  }
}

if (import.meta.main) main();
