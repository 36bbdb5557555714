import { afterAll, beforeAll, expect, test } from "bun:test";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import { callTool, listTools, type ToolServer } from "../../src/tools/client.ts";
import { BIG_RESULT_BYTES, startGarbageServer, startMcpServer, type TestMcpServer } from "../support/mcp-server.ts";

/* Parley's MCP client against a real MCP server made with the same SDK, and against things that are not one. */

const TOKEN = "s3cret-token-value";
let mcp: TestMcpServer;
let locked: TestMcpServer;
let garbage: { url: string; stop(): Promise<void> };
beforeAll(() => {
  mcp = startMcpServer();
  locked = startMcpServer({ token: TOKEN });
  garbage = startGarbageServer();
});
afterAll(async () => {
  await mcp.stop();
  await locked.stop();
  await garbage.stop();
});

const server = (url: string, headers: Record<string, string> = {}): ToolServer => ({ name: "Calc", url, headers });
const LIMITS = { timeoutMs: 5000, maxBytes: 100 * 1024 };

test("lists the server's tools with their descriptions and input schemas", async () => {
  const listed = await listTools(server(mcp.url));
  if (!("tools" in listed)) throw new Error(listed.error);
  expect(listed.tools.map((t) => t.name).sort()).toEqual(["add", "big", "fail", "sleep"]);
  const add = listed.tools.find((t) => t.name === "add")!;
  expect(add.description).toBe("Adds two numbers.");
  expect(add.inputSchema).toMatchObject({
    type: "object",
    properties: { a: { type: "number" }, b: { type: "number" } },
  });
});

test("a call runs the tool with the model's arguments and gives its text", async () => {
  const result = await callTool(server(mcp.url), "add", { a: 2, b: 40 }, LIMITS);
  expect(result).toEqual({ text: "42", isError: false, truncated: false });
  expect(mcp.calls.at(-1)).toEqual({ name: "add", args: { a: 2, b: 40 } });
});

test("a tool's own failure, arguments it refuses and an unknown tool are error results", async () => {
  expect(await callTool(server(mcp.url), "fail", {}, LIMITS)).toEqual({
    text: "the tool broke, as asked",
    isError: true,
    truncated: false,
  });
  const refused = await callTool(server(mcp.url), "add", { a: "two" }, LIMITS);
  expect(refused.isError).toBe(true);
  const unknown = await callTool(server(mcp.url), "nope", {}, LIMITS);
  expect(unknown.isError).toBe(true);
  expect(unknown.text).toContain("nope");
});

test("a result past the size bound is cut there, and says so", async () => {
  const result = await callTool(server(mcp.url), "big", {}, LIMITS);
  expect(result.isError).toBe(false);
  expect(result.truncated).toBe(true);
  expect(result.text.startsWith("x".repeat(100 * 1024))).toBe(true);
  expect(result.text).toEndWith("[The result was cut at 100 KB.]");
  expect(result.text.length).toBeLessThan(BIG_RESULT_BYTES);
});

test("a call that outlasts its time is given up with a sentence, and an abort stops it", async () => {
  const slow = await callTool(server(mcp.url), "sleep", { ms: 10_000 }, { ...LIMITS, timeoutMs: 300 });
  expect(slow).toEqual({ text: "Calc did not answer within 0.3 s.", isError: true, truncated: false });
  const stop = new AbortController();
  const stopping = callTool(server(mcp.url), "sleep", { ms: 10_000 }, { ...LIMITS, signal: stop.signal });
  setTimeout(() => stop.abort(), 100);
  expect(await stopping).toEqual({ text: "The call was stopped.", isError: true, truncated: false });
});

test("garbage, an unreachable server and a refused token are error results naming the server, never the token", async () => {
  const junk = await callTool(server(garbage.url), "add", { a: 1, b: 2 }, LIMITS);
  expect(junk.isError).toBe(true);
  expect(junk.text).toStartWith("Calc ");
  const listedJunk = await listTools(server(garbage.url));
  expect("error" in listedJunk && listedJunk.error).toStartWith("Calc ");

  const gone = await callTool(server("http://127.0.0.1:9/mcp"), "add", { a: 1, b: 2 }, LIMITS);
  expect(gone).toEqual({
    text: "Calc could not be reached at http://127.0.0.1:9/mcp.",
    isError: true,
    truncated: false,
  });

  const wrong = await callTool(
    server(locked.url, { Authorization: "Bearer wrong-token" }),
    "add",
    { a: 1, b: 2 },
    LIMITS,
  );
  expect(wrong.isError).toBe(true);
  expect(wrong.text).toBe("Calc refused Parley's credentials (401).");
  expect(wrong.text).not.toContain("wrong-token");

  const right = await callTool(server(locked.url, { Authorization: `Bearer ${TOKEN}` }), "add", { a: 1, b: 2 }, LIMITS);
  expect(right.text).toBe("3");
  expect(locked.authorizations.at(-1)).toBe(`Bearer ${TOKEN}`);
});

test("a server that echoes the token back in its refusal has it hidden from the sentence", async () => {
  const echo = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: (req) =>
      new Response(`bad token ${(req.headers.get("authorization") ?? "").replace("Bearer ", "")} for you`, {
        status: 403,
      }),
  });
  try {
    const echoing = server(`http://127.0.0.1:${echo.port}/mcp`, { Authorization: `Bearer ${TOKEN}` });
    const called = await callTool(echoing, "add", { a: 1, b: 2 }, LIMITS);
    const listed = await listTools(echoing);
    for (const text of [called.text, "error" in listed ? listed.error : ""]) {
      expect(text).toStartWith("Calc failed: ");
      expect(text).toContain("bad token [secret] for you");
      expect(text).not.toContain(TOKEN);
    }
  } finally {
    await echo.stop(true);
  }
});

test("a server that takes the request and never answers is given up at the call's time", async () => {
  const silent = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    fetch: () => new Promise<Response>(() => {}),
  });
  try {
    const result = await callTool(
      server(`http://127.0.0.1:${silent.port}/mcp`),
      "add",
      { a: 1, b: 2 },
      { ...LIMITS, timeoutMs: 500 },
    );
    expect(result).toEqual({ text: "Calc did not answer within 0.5 s.", isError: true, truncated: false });
  } finally {
    await silent.stop(true);
  }
});

test("a cut falls between characters, never inside one; pictures and resources are named in a line", async () => {
  const http = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const mcp = new McpServer({ name: "words", version: "1.0.0" });
      mcp.registerTool("euro", { description: "Euro signs (3 bytes each)." }, async () => ({
        content: [{ type: "text" as const, text: "€".repeat(1000) }],
      }));
      mcp.registerTool("mixed", { description: "Text, a picture, a resource." }, async () => ({
        content: [
          { type: "text" as const, text: "a chart:" },
          { type: "image" as const, data: "iVBORw0KGgo=", mimeType: "image/png" },
          { type: "resource" as const, resource: { uri: "file:///report.txt", text: "the report" } },
        ],
      }));
      const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
      await mcp.connect(transport);
      return transport.handleRequest(req);
    },
  });
  try {
    const url = `http://127.0.0.1:${http.port}/mcp`;
    // 1 KB holds 341 euro signs (1,023 bytes) and a third of the next: that one is left out whole.
    const cut = await callTool(server(url), "euro", {}, { timeoutMs: 5000, maxBytes: 1024 });
    expect(cut).toEqual({ text: `${"€".repeat(341)}\n[The result was cut at 1 KB.]`, isError: false, truncated: true });
    const mixed = await callTool(server(url), "mixed", {}, LIMITS);
    expect(mixed.text).toBe("a chart:\n[image image/png]\n[resource file:///report.txt]");
    expect(mixed.text).not.toContain("iVBOR");
  } finally {
    await http.stop(true);
  }
});
