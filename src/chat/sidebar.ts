import type { Db } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { projectGroups, projectGroupsOf } from "../projects/repo.ts";
import { type Bus, type createBroadcast, topics } from "./broadcast.ts";
import { chatList, chatLists } from "./repos/chats.ts";

/** The most people one read serves; the rest wait for the next. */
const MOST_PER_READ = 200;

/**
 * Pushes a person's chat list to their tabs after each change it shows. The refreshes asked for
 * in the same moment are read together, two statements for all of them (a burst of answers
 * starting or ending asked three statements of each person), and one read runs at a time: a
 * change made while a person's list is being read queues them for the next read, so the last
 * list pushed is never older than the last change, and the refreshes take two database
 * connections at most, never crowding out the sends.
 */
export class SidebarPush {
  // People whose list is to be read again (a second change before the read adds nothing).
  readonly #waiting = new Set<string>();
  #reading: Promise<void> | undefined;

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
    if (!this.bus.watched(topics.user(userId))) return;
    this.#waiting.add(userId);
    this.#reading ??= this.#readAll();
  }

  async #readAll() {
    for (;;) {
      // The rest of this turn's changes join the read.
      await new Promise((resolve) => setImmediate(resolve));
      const people = [...this.#waiting].slice(0, MOST_PER_READ);
      for (const id of people) this.#waiting.delete(id);
      try {
        const [lists, groups] = await Promise.all([chatLists(this.db, people), projectGroupsOf(this.db, people)]);
        for (const [i, userId] of people.entries()) this.broadcast.sidebar(userId, lists[i]!, groups[i]!);
      } catch (err) {
        this.log.warn("could not refresh the chat list", { error: err });
      }
      // Ended in the same turn as the check: a refresh asked for after it starts a read of its own.
      if (!this.#waiting.size) {
        this.#reading = undefined;
        return;
      }
    }
  }

  /** Resolves when the refreshes asked for so far are done (at shutdown). */
  async drain() {
    await this.#reading;
  }
}
