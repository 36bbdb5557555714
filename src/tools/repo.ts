import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { unlessTaken } from "../db/errors.ts";
import { isId } from "../db/ids.ts";
import { chatMcpServers, chats, type McpServer, mcpServers } from "../db/schema.ts";

/** What the admin sets of a server. */
export type ServerValues = Pick<McpServer, "name" | "url" | "headers" | "enabledTools" | "requireApproval">;

export async function listServers(db: Db): Promise<McpServer[]> {
  return db.select().from(mcpServers).orderBy(asc(mcpServers.name), asc(mcpServers.id));
}

export async function getServer(db: Db, id: unknown): Promise<McpServer | undefined> {
  if (!isId(id)) return undefined;
  const [server] = await db.select().from(mcpServers).where(eq(mcpServers.id, id));
  return server;
}

/** The new server, or "taken" when another has its name. */
export async function createServer(db: Db, values: ServerValues): Promise<McpServer | "taken"> {
  return unlessTaken(async () => (await db.insert(mcpServers).values(values).returning())[0]!);
}

export async function updateServer(
  db: Db,
  id: string,
  values: Partial<ServerValues>,
): Promise<McpServer | "taken" | undefined> {
  if (!isId(id)) return undefined;
  return unlessTaken(
    async () =>
      (
        await db
          .update(mcpServers)
          .set({ ...values, updatedAt: sql`now()` })
          .where(eq(mcpServers.id, id))
          .returning()
      )[0],
  );
}

export async function deleteServer(db: Db, id: string): Promise<McpServer | undefined> {
  if (!isId(id)) return undefined;
  const [gone] = await db.delete(mcpServers).where(eq(mcpServers.id, id)).returning();
  return gone;
}

/** The servers a chat uses (ids), if the chat is the person's. */
export async function chatServerIds(db: Db, userId: string, chatId: string): Promise<string[] | undefined> {
  if (!isId(chatId)) return undefined;
  const [chat] = await db
    .select({ id: chats.id })
    .from(chats)
    .where(and(eq(chats.id, chatId), eq(chats.userId, userId)));
  if (!chat) return undefined;
  const rows = await db
    .select({ serverId: chatMcpServers.serverId })
    .from(chatMcpServers)
    .where(eq(chatMcpServers.chatId, chatId));
  return rows.map((r) => r.serverId);
}

/** The chat uses exactly these servers (unknown ids are passed over); false if the chat is not the person's. */
export async function setChatServers(db: Db, userId: string, chatId: string, serverIds: string[]): Promise<boolean> {
  if (!isId(chatId)) return false;
  return db.transaction(async (tx) => {
    const [chat] = await tx
      .select({ id: chats.id })
      .from(chats)
      .where(and(eq(chats.id, chatId), eq(chats.userId, userId)))
      .for("update");
    if (!chat) return false;
    await tx.delete(chatMcpServers).where(eq(chatMcpServers.chatId, chatId));
    const ids = serverIds.filter(isId);
    if (ids.length) {
      const known = await tx.select({ id: mcpServers.id }).from(mcpServers).where(inArray(mcpServers.id, ids));
      if (known.length) await tx.insert(chatMcpServers).values(known.map((s) => ({ chatId, serverId: s.id })));
    }
    return true;
  });
}

/** The servers an answer in this chat may call, with their enabled tools (servers with none are left out). */
export async function toolsForChat(db: Db, chatId: string): Promise<McpServer[]> {
  const rows = await db
    .select({ server: mcpServers })
    .from(chatMcpServers)
    .innerJoin(mcpServers, eq(mcpServers.id, chatMcpServers.serverId))
    .where(eq(chatMcpServers.chatId, chatId))
    .orderBy(asc(mcpServers.name));
  return rows.map((r) => r.server).filter((s) => s.enabledTools.length > 0);
}
