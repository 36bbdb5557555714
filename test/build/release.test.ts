import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifactName, compileArgs, PLATFORMS, writeChecksums } from "../../src/build/release.ts";

const pkg = await Bun.file(join(import.meta.dir, "../../package.json")).json();
const scratch = mkdtempSync(join(tmpdir(), "parley-release-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("npm run release", () => {
  test("names each binary by version and platform, with .exe only for Windows", () => {
    expect(PLATFORMS.map((p) => artifactName("0.1.0", p.platform))).toEqual([
      "parley-0.1.0-linux-x64",
      "parley-0.1.0-linux-arm64",
      "parley-0.1.0-darwin-arm64",
      "parley-0.1.0-darwin-x64",
      "parley-0.1.0-windows-x64.exe",
    ]);
  });

  test("compiles what npm run build compiles, for its own target and into its own file", () => {
    const args = compileArgs(pkg.scripts.build, "linux-arm64", "dist/release/parley-0.1.0-linux-arm64");
    // Every entry point: the import's Markdown and passwords' strength are worked out on workers,
    // entries of the binary of their own.
    expect(args).toContain("src/cli.ts");
    expect(args).toContain("src/transfer/render-worker.ts");
    expect(args).toContain("src/auth/strength-worker.ts");
    for (const flag of [
      "--compile",
      "--bytecode",
      "--format=esm",
      "--minify-syntax",
      "--minify-whitespace",
      "--no-compile-autoload-dotenv",
      "--no-compile-autoload-bunfig",
      // Its bytecode laid out by use, and the JIT held back while it starts (docs/footprint.md).
      "--bytecode-order=src/build/bytecode-order.txt",
      "--compile-jit-policy=20",
    ]) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain("dist/parley");
    expect(args.slice(-3)).toEqual(["--target=bun-linux-arm64", "--outfile", "dist/release/parley-0.1.0-linux-arm64"]);
    expect(args.filter((a) => a.startsWith("--outfile"))).toHaveLength(1);
  });

  test("refuses a build script that compiles nothing, naming it", () => {
    expect(() => compileArgs("bun run build:css && bun build src/cli.ts --outdir dist", "linux-x64", "x")).toThrow(
      /build script runs no "bun build --compile"/,
    );
  });

  test("writes SHA256SUMS that sha256sum -c accepts, and that catches a changed file", async () => {
    writeFileSync(join(scratch, "parley-0.1.0-linux-x64"), "a binary");
    writeFileSync(join(scratch, "parley-0.1.0-windows-x64.exe"), "another binary");
    await writeChecksums(scratch, ["parley-0.1.0-windows-x64.exe", "parley-0.1.0-linux-x64"]);
    const check = () => Bun.spawnSync(["sha256sum", "-c", "SHA256SUMS"], { cwd: scratch });

    const ok = check();
    expect(ok.stdout.toString()).toBe("parley-0.1.0-linux-x64: OK\nparley-0.1.0-windows-x64.exe: OK\n");
    expect(ok.exitCode).toBe(0);

    writeFileSync(join(scratch, "parley-0.1.0-linux-x64"), "a binary, changed");
    const changed = check();
    expect(changed.stdout.toString()).toContain("parley-0.1.0-linux-x64: FAILED");
    expect(changed.exitCode).toBe(1);
  });
});
