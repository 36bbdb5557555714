import type { Db } from "../db/client.ts";
import { errorCode, insertExchange, insertExchanges } from "./repos/exchange.ts";

/** Beyond this many sends in a tick, a batch is written and the next begins: the statement's parameter stays small. */
const MOST_PER_BATCH = 200;
/** Two batches locking the same chats from two instances: Postgres ends one (40P01), which is tried again. */
const DEADLOCK = "40P01";

type Saved = Awaited<ReturnType<typeof insertExchange>>;
type Waiting = {
  userId: string;
  chatId: string;
  content: string;
  resolve: (s: Saved) => void;
  reject: (e: unknown) => void;
};

/**
 * Group commit for sends: the sends that reach this point in the same turn of the event loop are
 * saved by one statement and one commit (insertExchanges), where each would otherwise wait for a
 * commit of its own. A send alone is the one prepared statement it always was. Each send still
 * gets exactly its own answer (refused alone when its chat is not theirs or is being answered).
 */
export function createExchangeWriter(db: Db) {
  let waiting: Waiting[] = [];

  async function write(batch: Waiting[]) {
    try {
      if (batch.length === 1) {
        const [one] = batch;
        one!.resolve(await insertExchange(db, one!.userId, one!.chatId, one!.content));
        return;
      }
      let saved: Saved[];
      try {
        saved = await insertExchanges(db, batch);
      } catch (err) {
        if (errorCode(err) !== DEADLOCK) throw err;
        saved = await insertExchanges(db, batch);
      }
      for (const [i, w] of batch.entries()) w.resolve(saved[i]);
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }

  const flush = () => {
    const batch = waiting;
    waiting = [];
    if (batch.length) void write(batch);
  };

  return (userId: string, chatId: string, content: string): Promise<Saved> =>
    new Promise((resolve, reject) => {
      if (!waiting.length) setImmediate(flush);
      waiting.push({ userId, chatId, content, resolve, reject });
      if (waiting.length >= MOST_PER_BATCH) flush();
    });
}
