import type { Db } from "../db/client.ts";
import { rootDbError } from "../db/errors.ts";
import { perTick } from "../db/per-tick.ts";
import type { Chat } from "../db/schema.ts";
import { allowedBy } from "../teams/access.ts";
import { insertExchange, insertExchanges, ownChatsForSend } from "./repos/exchange.ts";

/** Two batches locking the same chats from two instances: Postgres ends one (40P01), which is tried again. */
const DEADLOCK = "40P01";

type Asked = { userId: string; chatId: string; content: string };

/**
 * Group commit for sends: the sends that reach the save in the same turn of the event loop are
 * stored by one statement and one commit (insertExchanges), where each would otherwise wait for a
 * commit of its own. A send alone is the one prepared statement it always was. Each send still
 * gets exactly its own answer (refused alone when its chat is not theirs or is being answered).
 */
export function createExchangeWriter(db: Db) {
  const write = perTick(async (batch: Asked[]) => {
    if (batch.length === 1) {
      const [one] = batch;
      return [await insertExchange(db, one!.userId, one!.chatId, one!.content)];
    }
    try {
      return await insertExchanges(db, batch);
    } catch (err) {
      if (rootDbError(err).code !== DEADLOCK) throw err;
      return insertExchanges(db, batch);
    }
  });
  return (userId: string, chatId: string, content: string) => write({ userId, chatId, content });
}

/**
 * The reads a send makes before it saves, per tick as above: for each send, the person's chat,
 * whether their groups allow its model, and whether any spending limit applies to them, in one
 * statement for all the sends of the tick. Undefined when the chat is not theirs.
 */
export function createSendReads(db: Db) {
  const read = perTick((batch: { userId: string; chatId: string }[]) => ownChatsForSend(db, batch));
  return async (
    userId: string,
    chatId: string,
  ): Promise<{ chat: Chat; allowed: boolean; unlimited: boolean } | undefined> => {
    const { chat, lists, unlimited } = await read({ userId, chatId });
    return chat && { chat, allowed: allowedBy(lists)(chat.model), unlimited };
  };
}
