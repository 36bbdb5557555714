import templatePath from "../../static/build/pglite-template.tar.gz" with { type: "file" };
import type { Config } from "../config.ts";
import { type Database, openDatabase } from "./client.ts";

/**
 * The product's database as the settings name it. A new DATA_DIR starts from the migrated data
 * directory made at build time (src/build/pglite-template.ts, embedded in the binary) rather than
 * from initdb: a first start in well under a second and a fifth of the memory.
 */
export function openConfigured(config: Pick<Config, "databaseUrl" | "dataDir" | "dataCacheMb">): Promise<Database> {
  return openDatabase({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    template: Bun.file(templatePath),
    cacheMb: config.dataCacheMb,
  });
}
