/**
 * `bun run build:assets` (before start, test and build): the embedded database's first data
 * directory, made here once instead of on every first start. initdb in WebAssembly and every
 * migration take 2-5 s and peak above 1 GB of memory; loading this file (about 5 MB of gzip)
 * takes well under a second and half the memory. src/db/client.ts loads it into a new DATA_DIR;
 * the binary embeds it. Made again only when the migrations or PGlite change (the key beside it).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openDatabase } from "../db/client.ts";
import { migrate, migrations } from "../db/migrate.ts";
import { unlessCurrent } from "./made-once.ts";

const ROOT = join(import.meta.dir, "../..");
export const TEMPLATE = join(ROOT, "static/build/pglite-template.tar.gz");
const KEY = `${TEMPLATE}.key`;

/** What the template depends on: the migrations and the PGlite that wrote it. */
function templateKey(): string {
  return createHash("sha256")
    .update(JSON.stringify(migrations.map((m) => [m.hash, m.folderMillis])))
    .update(readFileSync(join(ROOT, "node_modules/@electric-sql/pglite/package.json")))
    .digest("hex");
}

export function buildTemplate(): Promise<"made" | "current"> {
  return unlessCurrent(KEY, templateKey(), [TEMPLATE], async () => {
    const db = await openDatabase({ url: undefined, dataDir: "memory://" });
    try {
      await migrate(db);
      // A checkpoint first: what the migrations wrote is then in the tables' files, not only in the WAL.
      await db.pglite!.exec("checkpoint");
      const dump = await db.pglite!.dumpDataDir("gzip");
      mkdirSync(join(ROOT, "static/build"), { recursive: true });
      await Bun.write(TEMPLATE, dump);
    } finally {
      await db.close();
    }
  });
}

if (import.meta.main) {
  const started = performance.now();
  const done = await buildTemplate();
  if (done === "made") {
    const size = Bun.file(TEMPLATE).size;
    console.log(
      `static/build/pglite-template.tar.gz: ${(size / 1e6).toFixed(1)} MB in ${Math.round(performance.now() - started)} ms`,
    );
  }
}
