import type { Config } from "../config.ts";
import type { Database, Db } from "../db/client.ts";
import type { ModelCatalog } from "../llm/models.ts";
import type { Upstream } from "../llm/openrouter.ts";
import type { Logger } from "../log.ts";
import type { SearchIndexer } from "../search/indexer.ts";
import type { Bus, createBroadcast, Peers } from "./broadcast.ts";
import type { ChatLocks } from "./locks.ts";
import type { SidebarPush } from "./sidebar.ts";

/** What every part of the chat service shares: built once in service.ts, handed to each part. */
export type ChatCore = {
  database: Database;
  db: Db;
  upstream: Upstream;
  bus: Bus;
  /** Other instances on the same Postgres; none on the embedded database. */
  peers?: Peers;
  config: Config;
  log: Logger;
  broadcast: ReturnType<typeof createBroadcast>;
  locks: ChatLocks;
  models: ModelCatalog;
  sidebar: SidebarPush;
  /** Indexes answers for search once their end is saved (src/search/indexer.ts). */
  indexer: SearchIndexer;
};

/** The longest an answer's own write may take before it is taken as failed and tried again. */
export const WRITE_DEADLINE_MS = 15_000;
