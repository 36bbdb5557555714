import { and, asc, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { chats, type Message, messageFiles, messages } from "../../db/schema.ts";
import type { Siblings } from "../types.ts";
import type { Turn } from "./exchange.ts";

/*
 * Branches. Every message has a parent (the one before it when it was written), so edits and
 * regenerated answers are siblings rather than replacements. The branch shown is the messages
 * marked active: one path from the first message to a leaf. A child is always written after its
 * parent, and ids grow with time, so that path in id order is the conversation, and every query
 * above reads it with a plain `active` filter. Changing branch deactivates the path from the
 * fork on (the active messages from the fork's id on: all of them are below it) and activates
 * another.
 */

/** Deactivates the branch shown from `fromId` on; returns the ids that left the page. */
async function leaveBranch(tx: Db, chatId: string, fromId: string): Promise<string[]> {
  const left = await tx
    .update(messages)
    .set({ active: false })
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true), gte(messages.id, fromId)))
    .returning({ id: messages.id });
  return left.map((m) => m.id).sort();
}

/** The conversation before `id` on the branch shown (what an answer at that point is written from). */
async function historyBefore(tx: Db, chatId: string, id: string): Promise<Turn[]> {
  return tx
    .select({ id: messages.id, role: messages.role, content: messages.content, status: messages.status })
    .from(messages)
    .where(and(eq(messages.chatId, chatId), eq(messages.active, true), lt(messages.id, id)))
    .orderBy(asc(messages.id));
}

/** Spelled out by the caller: drizzle leaves columns unqualified inside sql``. */
const noStreamingIn = (chatId: SQL) =>
  sql`not exists (select 1 from messages s where s.chat_id = ${chatId} and s.status = 'streaming')`;

/**
 * A person's message sent again with new words: a sibling of `edited` with an empty answer,
 * shown instead of `edited` and everything after it (kept, one switch away). Undefined when the
 * message is not a message of the person's on the branch shown, or an answer is being written.
 */
export async function editExchange(
  db: Db,
  userId: string,
  editedId: string,
  content: string,
): Promise<{ left: string[]; user: Message; assistant: Message; history: Turn[] } | undefined> {
  return db.transaction(async (tx) => {
    const [edited] = await tx
      .select({ message: messages })
      .from(messages)
      .innerJoin(chats, eq(chats.id, messages.chatId))
      .where(
        and(
          eq(messages.id, editedId),
          eq(chats.userId, userId),
          eq(messages.role, "user"),
          eq(messages.active, true),
          noStreamingIn(sql`messages.chat_id`),
        ),
      )
      .for("update");
    if (!edited) return undefined;
    const { chatId, parentId } = edited.message;
    const [chat] = await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, chatId)).returning();
    const history = await historyBefore(tx, chatId, editedId);
    const left = await leaveBranch(tx, chatId, editedId);
    const userMessageId = Bun.randomUUIDv7();
    const [user, assistant] = await tx
      .insert(messages)
      .values([
        { id: userMessageId, chatId, parentId, role: "user", content, status: "complete" },
        {
          id: Bun.randomUUIDv7(),
          chatId,
          parentId: userMessageId,
          role: "assistant",
          content: "",
          status: "streaming",
          model: chat!.model,
        },
      ])
      .returning();
    // The new words go with the same files: editing a question about a screenshot keeps it.
    const attached = await tx
      .select({ fileId: messageFiles.fileId, position: messageFiles.position })
      .from(messageFiles)
      .where(eq(messageFiles.messageId, editedId));
    if (attached.length) {
      await tx.insert(messageFiles).values(attached.map((f) => ({ ...f, messageId: userMessageId })));
    }
    return { left, user: user!, assistant: assistant!, history };
  });
}

/**
 * A new answer in place of a finished one, beside it: the old answer stays, one switch away.
 * Undefined when `answerId` is not a finished answer on the branch shown, or one is being written.
 */
export async function regenerateAnswer(
  db: Db,
  chatId: string,
  answerId: string,
  model: string,
): Promise<{ left: string[]; assistant: Message; history: Turn[] } | undefined> {
  return db.transaction(async (tx) => {
    const [old] = await tx
      .select()
      .from(messages)
      .where(
        and(
          eq(messages.id, answerId),
          eq(messages.chatId, chatId),
          eq(messages.role, "assistant"),
          eq(messages.active, true),
          noStreamingIn(sql`${chatId}::uuid`),
        ),
      )
      .for("update");
    if (!old) return undefined;
    await tx.update(chats).set({ updatedAt: new Date() }).where(eq(chats.id, chatId));
    const history = await historyBefore(tx, chatId, answerId);
    const left = await leaveBranch(tx, chatId, answerId);
    const [assistant] = await tx
      .insert(messages)
      .values({ chatId, parentId: old.parentId, role: "assistant", content: "", status: "streaming", model })
      .returning();
    return { left, assistant: assistant!, history };
  });
}

/**
 * Shows the branch through `siblingId` instead of the one through its active sibling: from it
 * down, each message's newest child. Undefined when it is not a hidden message of the person's
 * chat, or an answer is being written there.
 */
export async function switchBranch(
  db: Db,
  userId: string,
  siblingId: string,
): Promise<{ chatId: string; left: string[]; shown: Message[] } | undefined> {
  return db.transaction(async (tx) => {
    const [target] = await tx
      .select({ message: messages })
      .from(messages)
      .innerJoin(chats, eq(chats.id, messages.chatId))
      .where(
        and(
          eq(messages.id, siblingId),
          eq(chats.userId, userId),
          eq(messages.active, false),
          noStreamingIn(sql`messages.chat_id`),
        ),
      )
      .for("update");
    if (!target) return undefined;
    const { chatId, parentId } = target.message;
    const [current] = await tx
      .select({ id: messages.id })
      .from(messages)
      .where(
        and(
          eq(messages.chatId, chatId),
          eq(messages.active, true),
          parentId === null ? sql`${messages.parentId} is null` : eq(messages.parentId, parentId),
        ),
      );
    const left = current ? await leaveBranch(tx, chatId, current.id) : [];
    const shown = await tx
      .update(messages)
      .set({ active: true })
      .where(
        sql`${messages.id} in (
          with recursive chain(id) as (
            select ${siblingId}::uuid
            union all
            select (select c.id from messages c where c.parent_id = chain.id order by c.id desc limit 1)
            from chain where chain.id is not null
          )
          select id from chain where id is not null)`,
      )
      .returning();
    return { chatId, left, shown: shown.sort((a, b) => (a.id < b.id ? -1 : 1)) };
  });
}

/** The sibling positions of the messages given that have siblings (most have none). */
export async function siblingsOf(db: Db, chatId: string, ids: string[]): Promise<Map<string, Siblings>> {
  return ids.length ? siblingsWhere(db, and(eq(messages.chatId, chatId), inArray(messages.id, ids))) : new Map();
}

/** siblingsOf for messages of any chats (the answers that end in the same moment), in one statement. */
export function siblingsOfMessages(db: Db, ids: string[]): Promise<Map<string, Siblings>> {
  return siblingsWhere(db, inArray(messages.id, ids));
}

async function siblingsWhere(db: Db, where: SQL | undefined): Promise<Map<string, Siblings>> {
  const found = new Map<string, Siblings>();
  const rows = await db
    .select({
      id: messages.id,
      siblings: sql<string>`(select string_agg(s.id::text, ',' order by s.id) from messages s
        where s.chat_id = messages.chat_id and (s.parent_id = messages.parent_id or (s.parent_id is null and messages.parent_id is null)))`,
    })
    .from(messages)
    .where(where);
  for (const { id, siblings } of rows) {
    const all = siblings.split(",");
    if (all.length < 2) continue;
    const index = all.indexOf(id);
    found.set(id, { index: index + 1, count: all.length, previous: all[index - 1], next: all[index + 1] });
  }
  return found;
}
