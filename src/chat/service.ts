import { createBulkActions } from "../bulk/service.ts";
import type { Config } from "../config.ts";
import type { Database } from "../db/client.ts";
import type { Chat, Project } from "../db/schema.ts";
import type { GenerationMetrics, GenerationTiming } from "../llm/generations.ts";
import { ModelCatalog } from "../llm/models.ts";
import type { Upstream } from "../llm/openrouter.ts";
import type { Logger } from "../log.ts";
import { ownsProject } from "../projects/repo.ts";
import { SearchIndexer } from "../search/indexer.ts";
import { allowances } from "../teams/limits-repo.ts";
import { createTemporaryChats } from "../temporary/service.ts";
import { createAnswers } from "./answers.ts";
import { createBranches } from "./branches.ts";
import { type Bus, createBroadcast, type Peers } from "./broadcast.ts";
import { createChats } from "./chats.ts";
import type { ChatCore } from "./core.ts";
import { createExchange } from "./exchange.ts";
import { ChatLocks } from "./locks.ts";
import { createSendPipeline } from "./pipeline.ts";
import { projectChatList } from "./repos/chats.ts";
import { SendLimits } from "./send-limits.ts";
import { createChatSettings } from "./settings-service.ts";
import { Shown } from "./shown.ts";
import { SidebarPush } from "./sidebar.ts";

export type ChatServiceDeps = {
  database: Database;
  upstream: Upstream;
  bus: Bus;
  /** Other instances on the same Postgres; none on the embedded database. */
  peers?: Peers;
  config: Config;
  log: Logger;
  timing?: GenerationTiming;
  metrics?: GenerationMetrics;
};

/**
 * Everything a person can do with chats; routes and the socket call this, never a repository.
 * It only puts the parts together, each in its own file:
 *
 *   chats.ts             the list, opening a chat, rename, delete
 *   exchange.ts          send, Stop, Retry/Regenerate, Edit (through pipeline.ts)
 *   pipeline.ts          what goes upstream for an answer, step by step
 *   branches.ts          moving between branches
 *   settings-service.ts  a chat's model, prompt and parameters; presets for a new chat
 *   answers.ts           answers being written: their end, leases, other instances, recovery
 *   titles.ts            a chat's title from its first exchange
 *   ../temporary/        temporary chats: kept while a tab shows them, then deleted
 *   ../bulk/             several chats archived, deleted or moved at once
 */
export function createChatService({ database, upstream, bus, peers, config, log, timing, metrics }: ChatServiceDeps) {
  const broadcast = createBroadcast(bus, peers);
  const core: ChatCore = {
    database,
    db: database.db,
    upstream,
    bus,
    peers,
    config,
    log,
    broadcast,
    locks: new ChatLocks(),
    models: new ModelCatalog(upstream, config.defaultModel, log),
    sidebar: new SidebarPush(database.db, bus, broadcast, log),
    indexer: new SearchIndexer(database, log),
  };
  // What a crash or an upgrade left unindexed.
  core.indexer.soon();
  const answers = createAnswers(core, { timing, metrics });
  const { generations } = answers;
  const limits = new SendLimits(config, (userId) => generations.countFor(userId));
  const shown = new Shown(core.db, answers.live);
  const pipeline = createSendPipeline(core, generations, limits, answers.tools);

  return {
    generations,
    temporary: createTemporaryChats(core),
    /** The sidebar's Select: several chats archived, deleted or moved at once (src/bulk/). */
    bulk: createBulkActions(core, generations),
    ...createChats(core, { answers, shown }),
    ...createExchange(core, { answers, pipeline, limits, shown }),
    ...createBranches(core, { generations, shown }),
    ...createChatSettings(core),

    /** A person's chat list: the most recently active first, and which have an answer being written. */
    sidebar: (userId: string, after?: string) => core.sidebar.read(userId, after),
    /** The sidebar's projects (their names: a group's chats load when it is opened). */
    projectGroups: (userId: string) => core.sidebar.groups(userId),
    /** A sidebar group's chats; undefined when the project is not this person's. */
    async projectChats(userId: string, projectId: string) {
      const [owned, list] = await Promise.all([
        ownsProject(core.db, userId, projectId),
        projectChatList(core.db, userId, projectId),
      ]);
      return owned ? list : undefined;
    },
    /** Chats that went into a project or out of one: their open pages say so (src/projects/). */
    projectChanged(moves: { chat: Chat; project: (Pick<Project, "id" | "name"> & { files?: number }) | null }[]) {
      for (const { chat, project } of moves) broadcast.chatMoved(chat.id, project);
    },
    /** Pushes the person's chat list to their tabs (after chats were added elsewhere, such as an import). */
    refreshSidebar: (userId: string | null) => core.sidebar.refresh(userId),
    /** What is left of the person's spending limits (see teams/limits-repo.ts). */
    allowances: (userId: string) => allowances(core.db, userId),
    /** The upstream's models (see llm/models.ts). */
    models: () => core.models.list(),

    /**
     * The person's Approve or Deny of a tool call waiting for it: here if this instance writes the
     * answer, else passed to the others (the one writing it checks the person).
     */
    decideTool(userId: string, messageId: unknown, stepId: unknown, approved: boolean) {
      if (typeof messageId !== "string" || typeof stepId !== "string") return;
      const g = generations.get(messageId);
      if (g) answers.tools.decide(userId, g, stepId, approved);
      else broadcast.decideElsewhere(messageId, userId, stepId, approved);
    },

    receive: answers.receive,
    /** Events from other instances may have been missed: tabs are about to reconnect and read afresh. */
    forgetMirrors: () => answers.mirrors.clear(),
    stopAnswersOf: answers.stopAnswersOf,
    recoverInterrupted: answers.recoverInterrupted,

    /** At shutdown: every answer in flight is aborted and saved as `interrupted`, and tabs told. */
    async shutdown() {
      await answers.shutdown();
      await core.sidebar.drain();
      await core.indexer.stop();
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;
