import type { Database } from "../db/client.ts";
import type { Logger } from "../log.ts";
import { indexWaiting } from "./repo.ts";

/**
 * Answers indexed per statement: a search waits for the statement indexing its person's answers
 * (25 long answers take ~60 ms), and on the embedded database every statement waits for it.
 */
const PER_STATEMENT = 25;

/**
 * Indexes answers shortly after their end is saved, off the path of the statement that saves it
 * (an answer is shown whole once saved, not once indexed; a message stored finished is indexed
 * by its insert, migration 0021). `soon()` after the ends of a moment: they are indexed
 * together, one run at a time, until nothing waits. A failed run (the database away) leaves the
 * rest for the next; a search indexes its person's first (see indexWaiting), so no result
 * depends on this having run.
 */
export class SearchIndexer {
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly database: Database,
    private readonly log: Logger,
  ) {}

  soon() {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#run();
  }

  async #run() {
    try {
      do {
        this.#again = false;
        // The rest of this moment's ends join the run; between statements, others' go first.
        do await new Promise((resolve) => setImmediate(resolve));
        while (!this.#stopped && (await indexWaiting(this.database, { most: PER_STATEMENT })) === PER_STATEMENT);
      } while (this.#again && !this.#stopped);
    } catch (err) {
      this.log.warn("could not index answers for search; a later end or search will", { error: err });
    } finally {
      this.#running = undefined;
    }
  }

  /**
   * At shutdown, before the database closes: the statement under way ends, no other starts. What
   * still waits is taken at the next start (or by a search).
   */
  async stop() {
    this.#stopped = true;
    await this.#running;
  }
}
