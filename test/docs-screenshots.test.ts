import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SCALE, SHOTS, type ShotName } from "./screenshots.ts";

const ROOT = resolve(import.meta.dir, "..");
const NAMES = Object.keys(SHOTS) as ShotName[];
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Width and height from a PNG's header (its first chunk, IHDR), or undefined if it is no PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || SIGNATURE.some((b, i) => bytes[i] !== b)) return undefined;
  if (new TextDecoder().decode(bytes.subarray(12, 16)) !== "IHDR") return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** Every shot's file in `folder`: a PNG of its viewport at SCALE, and its size in bytes. */
async function shotsIn(folder: string) {
  return Promise.all(
    NAMES.map(async (name) => {
      const file = Bun.file(join(folder, `${name}.png`));
      const bytes = (await file.exists()) ? await file.bytes() : new Uint8Array();
      const { width, height } = SHOTS[name].viewport;
      return {
        name,
        size: pngSize(bytes),
        expected: { width: width * SCALE, height: height * SCALE },
        bytes,
      };
    }),
  );
}

test("the README's screenshots are in docs/screenshots: PNGs of each shot's viewport, under 400 KB each", async () => {
  for (const shot of await shotsIn(join(ROOT, "docs", "screenshots"))) {
    expect({ name: shot.name, size: shot.size }).toEqual({ name: shot.name, size: shot.expected });
    expect(shot.bytes.length).toBeLessThan(400 * 1024);
  }
});

test("the screenshots script drives the real app in Chromium and writes every shot to the folder it is given", async () => {
  const out = mkdtempSync(join(tmpdir(), "parley-shots-"));
  try {
    const run = Bun.spawn([process.execPath, join(ROOT, "test", "screenshots.ts"), "--source", "--out", out], {
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([
      new Response(run.stdout).text(),
      new Response(run.stderr).text(),
      run.exited,
    ]);
    expect({ code, stderr: code ? stderr : "" }).toEqual({ code: 0, stderr: "" });
    expect(stdout).toContain("screenshots taken in");
    const shots = await shotsIn(out);
    for (const shot of shots) {
      expect({ name: shot.name, size: shot.size }).toEqual({ name: shot.name, size: shot.expected });
    }
    // The colour scheme took: light and dark are different pictures.
    const [light, dark] = ["desktop-light", "desktop-dark"].map((n) => shots.find((s) => s.name === n)!.bytes);
    expect(Buffer.compare(light!, dark!)).not.toBe(0);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);
