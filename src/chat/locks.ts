/**
 * Per-chat critical sections: a database change and the event announcing it happen together,
 * so a tab resynchronising reads either both or neither (no duplicate, no gap). One instance's
 * sections only; other instances' events are ordered by the bus.
 */
export class ChatLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(chatId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(chatId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => {});
    this.#tails.set(chatId, settled);
    void settled.then(() => {
      if (this.#tails.get(chatId) === settled) this.#tails.delete(chatId);
    });
    return run;
  }
}
