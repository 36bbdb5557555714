import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { readEmbedded } from "../../src/db/embedded-file.ts";

const scratch = mkdtempSync(join(tmpdir(), "parley-embedded-file-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("a file embedded in a compiled binary is read whole from the executable, not through its pages in memory", async () => {
  const bytes = new Uint8Array(5_000_000).map((_, i) => (i * 7919) % 251);
  // Its first bytes, by which it is found, are nowhere else in the binary.
  crypto.getRandomValues(bytes.subarray(0, 4096));
  writeFileSync(join(scratch, "blob.bin"), bytes);
  // The program reads the file with readEmbedded, then through the mapping: if readEmbedded had
  // touched the binary's pages of the file, the second read would find them already resident.
  writeFileSync(
    join(scratch, "main.ts"),
    `import path from "./blob.bin" with { type: "file" };
import { readFileSync } from "node:fs";
import { readEmbedded } from ${JSON.stringify(resolve("src/db/embedded-file.ts"))};
const fileKb = () => Number(/RssFile:\\s+(\\d+)/.exec(readFileSync("/proc/self/status", "utf8"))[1]);
const read = await readEmbedded(Bun.file(path));
const before = fileKb();
const mapped = await Bun.file(path).bytes();
console.log(JSON.stringify({ same: Buffer.from(read).equals(mapped), size: read.length, mappedKb: fileKb() - before }));
`,
  );
  const build = Bun.spawnSync([process.execPath, "build", "--compile", "main.ts", "--outfile", "program"], {
    cwd: scratch,
    stderr: "pipe",
  });
  expect(build.stderr.toString()).not.toContain("error");
  const run = Bun.spawnSync([join(scratch, "program")], { stderr: "pipe" });
  const report = JSON.parse(run.stdout.toString());
  expect(report).toMatchObject({ same: true, size: 5_000_000 });
  expect(report.mappedKb).toBeGreaterThan(4000);
});

test("a file that is not embedded is read as usual", async () => {
  const path = join(scratch, "plain.bin");
  writeFileSync(path, "not in any binary");
  expect(new TextDecoder().decode(await readEmbedded(Bun.file(path)))).toBe("not in any binary");
});
