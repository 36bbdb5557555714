import type { Db } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { projectGroups } from "../projects/repo.ts";
import { type Bus, type createBroadcast, topics } from "./broadcast.ts";
import { chatList } from "./repos/chats.ts";

/**
 * Pushes a person's chat list to their tabs after each change it shows. A person's refreshes
 * run one after another, each reading afresh, so the last one pushed is never older than the
 * last change. They run in two lanes (a person always in the same one), so under a burst of
 * answers they take at most two database connections and never crowd out the sends.
 */
export class SidebarPush {
  readonly #lanes: Promise<void>[] = [Promise.resolve(), Promise.resolve()];
  // A refresh queued and not yet started will read the newest state: a second one would repeat it.
  readonly #waiting = new Set<string>();

  constructor(
    private readonly db: Db,
    private readonly bus: Bus,
    private readonly broadcast: ReturnType<typeof createBroadcast>,
    private readonly log: Logger,
  ) {}

  /** A page of a person's chat list: the most recently active first, and which have an answer being written. */
  read(userId: string, after?: string) {
    return chatList(this.db, userId, after);
  }

  /** The sidebar's projects, each with its newest few chats (see ProjectGroups). */
  groups(userId: string) {
    return projectGroups(this.db, userId);
  }

  /** After a change to the person's chats: their tabs here and on other instances read the list again. */
  refresh(userId: string | null) {
    if (!userId) return;
    this.broadcast.sidebarChanged(userId);
    this.refreshHere(userId);
  }

  /** The refresh for this instance's tabs; none is read when no tab here shows the person's list. */
  refreshHere(userId: string) {
    if (this.#waiting.has(userId) || !this.bus.watched(topics.user(userId))) return;
    this.#waiting.add(userId);
    const lane = userId.charCodeAt(userId.length - 1) % this.#lanes.length;
    this.#lanes[lane] = this.#lanes[lane]!.then(async () => {
      this.#waiting.delete(userId);
      try {
        const [list, groups] = await Promise.all([this.read(userId), this.groups(userId)]);
        this.broadcast.sidebar(userId, list, groups);
      } catch (err) {
        this.log.warn("could not refresh the chat list", { error: err });
      }
    });
  }

  /** Resolves when the refreshes queued so far are done (at shutdown). */
  async drain() {
    await Promise.all(this.#lanes);
  }
}
