import { audit } from "../audit/log.ts";
import type { Database } from "../db/client.ts";
import type { McpServer, User } from "../db/schema.ts";
import { listTools, type ToolInfo } from "./client.ts";
import {
  chatServerIds,
  createServer,
  deleteServer,
  getServer,
  listServers,
  type ServerValues,
  setChatServers,
  updateServer,
} from "./repo.ts";

/** A refusal of what the admin typed, as a sentence for the page. */
export class ToolsError extends Error {}

export const NO_SUCH_SERVER = "There is no such MCP server: it may have been removed.";
const MAX_NAME = 40;
const MAX_HEADERS = 20;

type Form = Record<string, unknown>;
const str = (v: unknown) => (typeof v === "string" ? v : "");
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x) => typeof x === "string") : typeof v === "string" ? [v] : [];

function name(raw: unknown): string {
  const value = str(raw).trim();
  if (!value) throw new ToolsError("Give the server a name.");
  if (value.length > MAX_NAME) throw new ToolsError(`A server's name is at most ${MAX_NAME} characters.`);
  if (!/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/.test(value))
    throw new ToolsError(
      "A server's name is letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit.",
    );
  return value;
}

function url(raw: unknown): string {
  const value = str(raw).trim();
  try {
    const parsed = new URL(value);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") return parsed.href;
  } catch {}
  throw new ToolsError("The URL must be an http:// or https:// address of the server's MCP endpoint.");
}

/** A bearer token and "Name: value" lines, as the headers sent with every request. */
function headers(token: unknown, lines: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of str(lines).split(/\r?\n/)) {
    if (!line.trim()) continue;
    const at = line.indexOf(":");
    const key = line.slice(0, at).trim();
    const value = line.slice(at + 1).trim();
    if (at < 1 || !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(key) || !value || /[\r\n\0]/.test(value))
      throw new ToolsError("Each header line is “Name: value”.");
    out[key] = value;
  }
  const bearer = str(token).trim();
  if (/[\r\n\0]/.test(bearer)) throw new ToolsError("The bearer token is one line.");
  if (bearer) {
    // The token field wins over an Authorization line in any case (two would be sent joined by a comma).
    for (const key of Object.keys(out)) if (key.toLowerCase() === "authorization") delete out[key];
    out.Authorization = `Bearer ${bearer}`;
  }
  if (Object.keys(out).length > MAX_HEADERS) throw new ToolsError(`At most ${MAX_HEADERS} headers.`);
  return out;
}

export function createToolsService({ database }: { database: Database }) {
  const db = database.db;
  const record = (actor: User, action: string, server: McpServer) =>
    audit(db, {
      actorId: actor.id,
      actorName: actor.username,
      action,
      target: server.name,
      detail: { url: server.url },
    });
  const saved = async (write: Promise<McpServer | "taken" | undefined>): Promise<McpServer> => {
    const server = await write;
    if (server === "taken") throw new ToolsError("Another server has that name.");
    if (!server) throw new ToolsError(NO_SUCH_SERVER);
    return server;
  };

  return {
    list: () => listServers(db),

    /** A server and the tools it offers now (or why they could not be listed). */
    async page(
      id: unknown,
    ): Promise<{ server: McpServer; listed: { tools: ToolInfo[] } | { error: string } } | undefined> {
      const server = await getServer(db, id);
      if (!server) return undefined;
      return { server, listed: await listTools(server) };
    },

    /** Registers a server with every tool it lists enabled (none, if it cannot be reached now). */
    async create(actor: User, form: Form): Promise<McpServer> {
      const values: ServerValues = {
        name: name(form.name),
        url: url(form.url),
        headers: headers(form.token, form.headers),
        enabledTools: [],
        requireApproval: form.approval === "on",
      };
      const listed = await listTools(values);
      if ("tools" in listed) values.enabledTools = listed.tools.map((t) => t.name);
      const server = await saved(createServer(db, values));
      await record(actor, "tools.create", server);
      return server;
    },

    async setTools(actor: User, id: string, form: Form): Promise<McpServer> {
      const server = await saved(updateServer(db, id, { enabledTools: [...new Set(list(form.tool))].slice(0, 1000) }));
      await record(actor, "tools.update", server);
      return server;
    },

    async setApproval(actor: User, id: string, form: Form): Promise<McpServer> {
      const server = await saved(updateServer(db, id, { requireApproval: form.approval === "on" }));
      await record(actor, "tools.update", server);
      return server;
    },

    /** New headers in place of the old (which are never shown). */
    async setCredentials(actor: User, id: string, form: Form): Promise<McpServer> {
      const server = await saved(updateServer(db, id, { headers: headers(form.token, form.headers) }));
      await record(actor, "tools.update", server);
      return server;
    },

    async remove(actor: User, id: string): Promise<void> {
      const server = await deleteServer(db, id);
      if (!server) throw new ToolsError(NO_SUCH_SERVER);
      await record(actor, "tools.delete", server);
    },

    /** The servers a person may choose for a chat (those with tools enabled), and which it uses; undefined when the chat is not theirs. */
    async forChat(userId: string, chatId: string) {
      const chosen = await chatServerIds(db, userId, chatId);
      if (!chosen) return undefined;
      const offered = (await listServers(db)).filter((s) => s.enabledTools.length);
      return { offered, chosen: new Set(chosen) };
    },

    setForChat: (userId: string, chatId: string, form: Form) => setChatServers(db, userId, chatId, list(form.server)),
  };
}

export type ToolsService = ReturnType<typeof createToolsService>;
