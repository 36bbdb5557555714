/**
 * A real MCP server for the tests, built with the official SDK (the same package Parley's client
 * is), served over Streamable HTTP on 127.0.0.1: tools that add, sleep, fail and return 5 MB.
 * Stateless: each request gets a server and transport of its own, as the SDK advises for that mode.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { z } from "zod";

export type TestMcpServer = {
  url: string;
  /** The tool calls it ran, in order: name and arguments. */
  calls: { name: string; args: unknown }[];
  /** Every request's Authorization header, in order. */
  authorizations: (string | null)[];
  stop(): Promise<void>;
};

export const BIG_RESULT_BYTES = 5 * 1024 * 1024;

function tools(calls: TestMcpServer["calls"]): McpServer {
  const server = new McpServer({ name: "parley-test-tools", version: "1.0.0" });
  const text = (t: string) => ({ content: [{ type: "text" as const, text: t }] });
  server.registerTool(
    "add",
    { description: "Adds two numbers.", inputSchema: { a: z.number(), b: z.number() } },
    async ({ a, b }) => {
      calls.push({ name: "add", args: { a, b } });
      return text(String(a + b));
    },
  );
  server.registerTool(
    "sleep",
    { description: "Waits, then says how long.", inputSchema: { ms: z.number() } },
    async ({ ms }, extra) => {
      calls.push({ name: "sleep", args: { ms } });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        extra.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return text(`slept ${ms} ms`);
    },
  );
  server.registerTool("fail", { description: "Always fails." }, async () => {
    calls.push({ name: "fail", args: {} });
    return { content: [{ type: "text" as const, text: "the tool broke, as asked" }], isError: true };
  });
  server.registerTool("big", { description: "Returns 5 MB of text." }, async () => {
    calls.push({ name: "big", args: {} });
    return text("x".repeat(BIG_RESULT_BYTES));
  });
  return server;
}

/** Starts the server; with `token`, a request without `Authorization: Bearer <token>` gets a 401. */
export function startMcpServer(opts: { token?: string } = {}): TestMcpServer {
  const calls: TestMcpServer["calls"] = [];
  const authorizations: (string | null)[] = [];
  const http = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    async fetch(req) {
      authorizations.push(req.headers.get("authorization"));
      if (opts.token && req.headers.get("authorization") !== `Bearer ${opts.token}`) {
        return Response.json({ error: "unauthorized" }, { status: 401 });
      }
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      const server = tools(calls);
      await server.connect(transport);
      return transport.handleRequest(req);
    },
  });
  return {
    url: `http://127.0.0.1:${http.port}/mcp`,
    calls,
    authorizations,
    stop: async () => {
      await http.stop(true);
    },
  };
}

/** Something at a URL that answers every request with bytes that are not MCP. */
export function startGarbageServer(): { url: string; stop(): Promise<void> } {
  const http = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: () => new Response("<html>not an MCP server</html>", { headers: { "content-type": "application/json" } }),
  });
  return { url: `http://127.0.0.1:${http.port}/mcp`, stop: async () => void (await http.stop(true)) };
}
