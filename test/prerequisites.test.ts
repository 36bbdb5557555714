import { describe, expect, test } from "bun:test";
import { type Machine, NEEDS, plan } from "./prerequisites.ts";

const debianRoot: Machine = { ubuntu: false, apt: true, root: true, sudo: "none", interactive: false };
const user = (sudo: Machine["sudo"], interactive = true): Machine => ({
  ...debianRoot,
  root: false,
  sudo,
  interactive,
});
const [chromium, caddy, postgres] = NEEDS.test;
const all = NEEDS.test;
const aptUpdateThen = (install: string) => [
  "env",
  "DEBIAN_FRONTEND=noninteractive",
  "sh",
  "-c",
  `apt-get update -qq && ${install}`,
];

describe("what `npm test` does about missing system packages", () => {
  test("as root on Debian it installs them all with one apt-get, after refreshing the package lists", () => {
    expect(plan(all, debianRoot)).toEqual({
      kind: "install",
      argv: aptUpdateThen("apt-get install -y --no-install-recommends chromium caddy postgresql"),
      command: "apt-get install -y --no-install-recommends chromium caddy postgresql",
      packages: ["chromium", "caddy", "postgresql"],
      asks: false,
      note: undefined,
    });
  });

  test("with sudo that asks nothing it installs through sudo", () => {
    const todo = plan([caddy!], user("nopasswd", false));
    expect(todo).toMatchObject({ kind: "install", command: "sudo apt-get install -y --no-install-recommends caddy" });
    expect(todo.kind === "install" && todo.argv).toEqual([
      "sudo",
      ...aptUpdateThen("apt-get install -y --no-install-recommends caddy"),
    ]);
    expect(todo).toMatchObject({ asks: false });
  });

  test("with sudo that wants a password it lets sudo ask, when someone is at a terminal", () => {
    expect(plan([postgres!], user("password", true))).toMatchObject({ kind: "install", asks: true });
  });

  test("with sudo that wants a password and nobody to type it, it stops with the one command to run", () => {
    expect(plan([caddy!, postgres!], user("password", false))).toEqual({
      kind: "stop",
      message:
        "Caddy and the Postgres server are not installed. Run:\n  sudo apt-get install -y --no-install-recommends caddy postgresql",
    });
  });

  test("without root or sudo it says to run the install as root", () => {
    const todo = plan([chromium!], user("none"));
    expect(todo.kind === "stop" && todo.message).toBe(
      "Chromium is not installed. Run as root:\n  apt-get install -y --no-install-recommends chromium",
    );
  });

  test("without apt-get it names what is missing and Debian's command", () => {
    const todo = plan(all, { ...debianRoot, apt: false });
    expect(todo.kind === "stop" && todo.message).toStartWith(
      "Chromium, Caddy and the Postgres server are not installed. Install them with your package manager",
    );
  });

  test("on Ubuntu it installs what apt has and says how to give it a Chromium that is not a snap", () => {
    const todo = plan(all, { ...debianRoot, ubuntu: true });
    expect(todo).toMatchObject({ kind: "install", packages: ["caddy", "postgresql"] });
    expect(todo.kind === "install" && todo.note).toMatch(/only as a snap.*set CHROMIUM_PATH/);
    const onlyChromium = plan([chromium!], { ...debianRoot, ubuntu: true });
    expect(onlyChromium.kind === "stop" && onlyChromium.message).toMatch(/^Chromium is not installed\.\nUbuntu has/);
  });

  test("a CHROMIUM_PATH that names nothing is the person's to fix: no chromium package is installed", () => {
    const todo = plan([chromium!, caddy!], { ...debianRoot, chromiumPath: "/opt/chrome" });
    expect(todo).toMatchObject({ kind: "install", packages: ["caddy"] });
    expect(todo.kind === "install" && todo.note).toMatch(/CHROMIUM_PATH is \/opt\/chrome, and nothing is there/);
  });

  test("the smoke test of the binary needs curl and ip (iproute2)", () => {
    expect(plan(NEEDS.smoke, debianRoot)).toMatchObject({ kind: "install", packages: ["curl", "iproute2"] });
  });

  test("run as `pretest` where it cannot install, it stops at once with exit 1 and what to do", () => {
    // With no PATH it finds neither Caddy nor apt-get: whatever this machine has, it installs nothing.
    const run = Bun.spawnSync([process.execPath, `${import.meta.dir}/prerequisites.ts`], {
      env: { PATH: "/nonexistent", CHROMIUM_PATH: "/nonexistent/chromium" },
      stdin: "ignore",
      stderr: "pipe",
    });
    const said = run.stderr.toString();
    expect(run.exitCode).toBe(1);
    expect(said).toMatch(/^\nChromium.*Caddy.* not installed\. Install them with your package manager/);
    expect(said).toContain("CHROMIUM_PATH is /nonexistent/chromium, and nothing is there");
    expect(said).toEndWith("Then npm test again.\n\n");
    expect(said).not.toContain("Installing");
  });
});
