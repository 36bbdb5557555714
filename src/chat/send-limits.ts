import { RateLimit, tryAgainIn } from "../auth/limits.ts";
import { ChatError } from "./errors.ts";

/**
 * Abuse limits, checked before anything is saved: messages per minute, and answers being
 * written at once (each costs the owner's credits and holds an upstream connection).
 */
export class SendLimits {
  readonly #sends: RateLimit;
  // Answers accepted but not yet started upstream (the history is being read): they count
  // against the limit too, or two quick sends would both slip under it.
  readonly #starting = new Map<string, number>();

  constructor(
    private readonly limits: { sendsPerMinute: number; maxConcurrentAnswers: number },
    /** How many answers the person has being written now. */
    private readonly writing: (userId: string) => number,
  ) {
    this.#sends = new RateLimit(limits.sendsPerMinute, 60_000);
  }

  /** Refuses with a sentence when the person is over a limit; counts nothing. */
  check(userId: string): void {
    const wait = this.#sends.wait(userId);
    if (wait > 0) {
      throw new ChatError(
        `You have sent ${this.limits.sendsPerMinute} messages in the last minute; try again ${tryAgainIn(wait)}.`,
      );
    }
    if (this.writing(userId) + (this.#starting.get(userId) ?? 0) >= this.limits.maxConcurrentAnswers) {
      throw new ChatError(
        `You have ${this.limits.maxConcurrentAnswers} answers being written already; wait for one to finish, or stop one.`,
      );
    }
  }

  /** Counts a send against the person's limits; the function it returns ends its "starting" hold. */
  admit(userId: string): () => void {
    this.check(userId);
    this.#sends.hit(userId);
    this.#starting.set(userId, (this.#starting.get(userId) ?? 0) + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const n = (this.#starting.get(userId) ?? 1) - 1;
      if (n > 0) this.#starting.set(userId, n);
      else this.#starting.delete(userId);
    };
  }
}
