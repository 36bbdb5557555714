/**
 * `npm run release`: the single binary for every platform offered as a download, in dist/release/
 * as parley-<version>-<os>-<arch> (.exe on Windows), with SHA256SUMS beside them (read by
 * `sha256sum -c`). Each is compiled as `npm run build` compiles dist/parley, whose flags and entry
 * points are read from package.json so the two cannot drift apart, for another target: Bun fetches
 * that platform's runtime from the npm registry once and caches it in ~/.bun/install/cache.
 * Every file's format is checked with `file`; the one this machine runs goes through the smoke test.
 */
import { createHash } from "node:crypto";
import { createReadStream, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * The platforms, each with what `file` must say of its binary. x64 needs no `-baseline` target:
 * in Bun 1.4.5 the baseline and default x64 runtimes are the same file (same SHA-256) on all three
 * systems, and run on CPUs without AVX2.
 */
export const PLATFORMS = [
  { platform: "linux-x64", format: /^ELF 64-bit LSB executable, x86-64\b/ },
  { platform: "linux-arm64", format: /^ELF 64-bit LSB executable, ARM aarch64\b/ },
  { platform: "darwin-arm64", format: /^Mach-O 64-bit arm64 executable\b/ },
  { platform: "darwin-x64", format: /^Mach-O 64-bit x86_64 executable\b/ },
  { platform: "windows-x64", format: /^PE32\+ executable \(console\) x86-64\b/ },
] as const;

export type Platform = (typeof PLATFORMS)[number]["platform"];

/** Every Bun runtime is 88-116 MB; anything much smaller is not a compiled binary. */
const SMALLEST_BINARY = 64e6;

/** parley-0.1.0-linux-x64, parley-0.1.0-windows-x64.exe. */
export function artifactName(version: string, platform: Platform): string {
  return `parley-${version}-${platform}${platform.startsWith("windows-") ? ".exe" : ""}`;
}

/**
 * The `bun build` arguments of package.json's build script, with its --outfile replaced by the
 * given one and the target added.
 */
export function compileArgs(buildScript: string, platform: Platform, outfile: string): string[] {
  const command = buildScript
    .split("&&")
    .map((part) => part.trim())
    .find((part) => part.startsWith("bun build ") && part.includes(" --compile"));
  if (!command) throw new Error(`package.json's build script runs no "bun build --compile": ${buildScript}`);
  const args = command.split(/\s+/).slice(2);
  const out = args.findIndex((arg) => arg === "--outfile" || arg.startsWith("--outfile="));
  if (out < 0) throw new Error(`package.json's build script gives no --outfile: ${command}`);
  args.splice(out, args[out] === "--outfile" ? 2 : 1);
  return [...args, `--target=bun-${platform}`, "--outfile", outfile];
}

/** A file's SHA-256 in hex, read as a stream (the binaries are 110-140 MB). */
async function sha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest("hex");
}

/** Writes `dir`/SHA256SUMS for the named files in it, in the format `sha256sum -c` reads. */
export async function writeChecksums(dir: string, names: string[]): Promise<string> {
  const lines = [];
  for (const name of [...names].sort()) lines.push(`${await sha256(join(dir, name))}  ${name}\n`);
  const path = join(dir, "SHA256SUMS");
  writeFileSync(path, lines.join(""));
  return path;
}

/** The platform of this machine, if a download is made for it. */
function hostPlatform(): Platform | undefined {
  const os = process.platform === "win32" ? "windows" : process.platform;
  return PLATFORMS.find((p) => p.platform === `${os}-${process.arch}`)?.platform;
}

function run(argv: string[]): string {
  const result = Bun.spawnSync(argv, { stdout: "pipe", stderr: "inherit" });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (exit ${result.exitCode})`);
  return result.stdout.toString();
}

/** `file` names a binary's format independently of Bun: the check does not share its mistakes. */
function hasFile(): boolean {
  try {
    return Bun.spawnSync(["file", "--version"]).exitCode === 0;
  } catch {
    return false;
  }
}

async function release() {
  if (!hasFile()) throw new Error("the release checks each binary with `file`: install it (apt-get install file)");
  const pkg = await Bun.file("package.json").json();
  const dir = join("dist", "release");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const started = performance.now();
  const names: string[] = [];
  let failed = false;
  for (const { platform, format } of PLATFORMS) {
    const name = artifactName(pkg.version, platform);
    const path = join(dir, name);
    const t0 = performance.now();
    run([process.execPath, "build", ...compileArgs(pkg.scripts.build, platform, path)]);
    const seconds = (performance.now() - t0) / 1000;
    const size = statSync(path).size;
    const kind = run(["file", "-b", path]).trim();
    const ok = format.test(kind) && size >= SMALLEST_BINARY;
    failed ||= !ok;
    console.log(
      `${ok ? "ok  " : "FAIL"} ${name.padEnd(32)} ${(size / 1e6).toFixed(1).padStart(6)} MB ` +
        `${seconds.toFixed(1).padStart(5)} s  ${ok ? format.exec(kind)?.[0] : kind}`,
    );
    names.push(name);
  }
  if (failed) throw new Error("a binary is not what its platform runs (see FAIL above)");
  console.log(`built in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const host = hostPlatform();
  if (host) {
    const binary = join(dir, artifactName(pkg.version, host));
    const smoke = Bun.spawnSync([process.execPath, "test/smoke-binary.ts", binary], { stdout: "inherit" });
    if (smoke.exitCode !== 0) throw new Error(`${binary} failed the smoke test`);
  } else {
    console.log(`no binary is made for ${process.platform}-${process.arch}, so none was smoke-tested`);
  }
  // Last, so that a folder with SHA256SUMS in it passed every check.
  console.log(`${await writeChecksums(dir, names)} written`);
}

if (import.meta.main) {
  await release().catch((err: Error) => {
    console.error(`release: ${err.message}`);
    process.exit(1);
  });
}
