import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase } from "../../src/db/client.ts";
import { pgliteTemplate } from "../support/db.ts";
import { type Parley, runParley, startParley } from "../support/process.ts";
import { canMountSmallDisk, mountSmallDisk } from "../support/small-disk.ts";
import { PASSWORDS, signIn } from "./support.ts";

/**
 * A backup's checkpoint on a full disk PANICs inside PGlite, and the embedded database then
 * answers wrongly, then spins for ever. A backup of a running server on a nearly full disk is
 * refused instead, and the server goes on.
 */
describe.if(canMountSmallDisk())("parley backup on a nearly full disk [pglite]", () => {
  const disk = mountSmallDisk(160);
  const out = mkdtempSync(join(tmpdir(), "parley-full-backup-"));
  let parley: Parley | undefined;
  afterAll(async () => {
    if (parley?.proc.exitCode === null) await parley.stop("SIGKILL");
    disk.unmount();
    rmSync(out, { recursive: true, force: true });
  });

  test("is refused with a sentence, makes no file, and the running server still answers; with room it is made", async () => {
    const dataDir = join(disk.path, "data");
    const made = await openDatabase({ url: undefined, dataDir, loadDataDir: await pgliteTemplate() });
    await made.close();
    const env = { DATA_DIR: dataDir };
    expect((await runParley(["user", "create", "ann"], env, undefined, PASSWORDS.ann)).code).toBe(0);
    parley = await startParley(env);
    disk.fill();

    const file = join(out, "full.backup");
    const refused = await runParley(["backup", file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^parley: The disk holding DATA_DIR \(.*\) has [0-9]+ MB free, and a backup needs at least 32 MB there to start \(a checkpoint on a full disk stops the embedded database\); free some space, then back up\.\n$/,
    );
    expect(existsSync(file)).toBe(false);
    // Not wedged: it still answers from its database, and once there is room it writes again.
    expect((await fetch(`${parley.url}/readyz`, { signal: AbortSignal.timeout(20_000) })).status).toBe(200);
    disk.free();
    expect(await signIn(parley.url, "ann")).toBeString();
    const backedUp = await runParley(["backup", file], env);
    expect(backedUp.code).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(await parley.stop()).toBe(0);
  }, 90_000);
});
