import type { Generations } from "../llm/generations.ts";
import type { ChatCore } from "./core.ts";
import { ChatError } from "./errors.ts";
import { switchBranch } from "./repos/branches.ts";
import { getOwnMessage } from "./repos/messages.ts";
import type { Shown } from "./shown.ts";
import { refuseChange, refuseWhileWriting } from "./writing.ts";

/**
 * Moving between branches (‹ 2 / 3 ›). Branches are made by Edit and Regenerate, in exchange.ts;
 * how they are stored is told in repos/branches.ts.
 */
export function createBranches(core: ChatCore, { generations, shown }: { generations: Generations; shown: Shown }) {
  const { db, locks, broadcast } = core;
  return {
    /** Shows another branch: the one through `messageId`, a sibling of a message shown now. */
    async switchBranch(userId: string, messageId: unknown) {
      const message = await getOwnMessage(db, userId, messageId);
      if (!message) throw new ChatError("There is no such message.");
      if (message.active) return;
      await locks.run(message.chatId, async () => {
        refuseWhileWriting(generations, message.chatId, "switch");
        const branch = await switchBranch(db, userId, message.id);
        if (!branch) return refuseChange(db, userId, message.chatId, "switch");
        const show = await shown.withSiblings(branch.chatId, branch.shown);
        broadcast.branched(branch.chatId, branch.left, branch.shown.map(show));
      });
    },
  };
}
