import { boolean, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { chats } from "./chats.ts";
import { createdAt, id } from "./columns.ts";

/** Tools over MCP: the servers the admin registered, and which chats use them. */

/**
 * A remote MCP server (Streamable HTTP). Its headers (a bearer token is an Authorization header)
 * are sent with every request to it and never shown again once saved.
 */
export const mcpServers = pgTable(
  "mcp_servers",
  {
    id: id(),
    name: text("name").notNull(),
    url: text("url").notNull(),
    headers: jsonb("headers").$type<Record<string, string>>().notNull().default({}),
    /** The server's tools that models may call; a tool the server adds later is off until enabled. */
    enabledTools: jsonb("enabled_tools").$type<string[]>().notNull().default([]),
    /** Each call waits for the person to approve it, seeing its arguments. */
    requireApproval: boolean("require_approval").notNull().default(false),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("mcp_servers_name_idx").on(t.name)],
);

export type McpServer = typeof mcpServers.$inferSelect;

/** The MCP servers a chat's answers may use: chosen per chat by its person. */
export const chatMcpServers = pgTable(
  "chat_mcp_servers",
  {
    // A one-column key of its own, as every table has: move-data copies tables in batches by it.
    id: id(),
    chatId: uuid("chat_id")
      .notNull()
      .references(() => chats.id, { onDelete: "cascade" }),
    serverId: uuid("server_id")
      .notNull()
      .references(() => mcpServers.id, { onDelete: "cascade" }),
  },
  (t) => [
    uniqueIndex("chat_mcp_servers_chat_server_idx").on(t.chatId, t.serverId),
    index("chat_mcp_servers_server_idx").on(t.serverId),
  ],
);
