/*
 * Parley's side of MCP: the official SDK's client over Streamable HTTP, one connection per call
 * (servers are remote and calls are seconds apart; nothing is held open between answers). Every
 * failure becomes a sentence naming the server: a tool server that hangs, errors, answers
 * garbage or cannot be reached gives the model and the person an error result, never a stuck
 * answer. Header values (tokens) are never put in a sentence.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

/** Where a server is and what to send it. */
export type ToolServer = { name: string; url: string; headers: Record<string, string> };

export type ToolInfo = { name: string; description: string; inputSchema: Record<string, unknown> };

/** A call's outcome as the model is given it: text, perhaps cut, and whether it is an error. */
export type ToolResult = { text: string; isError: boolean; truncated: boolean };

/** Bytes one response may bring before it is given up (a tool result is cut far below this). */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;
/** How long listing a server's tools may take (the admin page waits for it). */
const LIST_TIMEOUT_MS = 10_000;

/** A fetch that gives up on a response past MAX_RESPONSE_BYTES rather than holding it all. */
const boundedFetch: typeof fetch = Object.assign(
  async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
    const res = await fetch(input, init);
    if (!res.body) return res;
    let seen = 0;
    const limited = res.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > MAX_RESPONSE_BYTES) controller.error(new Error("the server's answer was too large"));
          else controller.enqueue(chunk);
        },
      }),
    );
    return new Response(limited, { status: res.status, statusText: res.statusText, headers: res.headers });
  },
  { preconnect: fetch.preconnect },
);

/**
 * What must never be repeated from a server's error: each header value, and its credential alone
 * ("Bearer abc" gives "abc" too: a server may echo the bare token back in its refusal). Longest
 * first, so a value is hidden whole before a part of it.
 */
function secrets(headers: Record<string, string>): string[] {
  const found = Object.values(headers).flatMap((value) => [value, value.replace(/^\S+\s+/, "")]);
  return [...new Set(found.filter((v) => v.trim().length >= 4))].sort((a, b) => b.length - a.length);
}

/** The sentence for a failure, naming the server and never its headers. */
function sentence(server: ToolServer, err: unknown, signal: AbortSignal | undefined, timeoutMs: number): string {
  if (signal?.aborted && signal.reason instanceof DOMException && signal.reason.name === "TimeoutError")
    return `${server.name} did not answer within ${Math.round(timeoutMs / 100) / 10} s.`;
  const raw = err instanceof Error ? err.message : String(err);
  let message = raw;
  for (const secret of secrets(server.headers)) message = message.replaceAll(secret, "[secret]");
  if (/\b401\b|unauthori[sz]ed/i.test(message)) return `${server.name} refused Parley's credentials (401).`;
  if (/ECONNREFUSED|Unable to connect|fetch failed|ENOTFOUND|EAI_AGAIN|ConnectionRefused/i.test(message))
    return `${server.name} could not be reached at ${server.url}.`;
  if (/timed? ?out|RequestTimeout/i.test(message))
    return `${server.name} did not answer within ${Math.round(timeoutMs / 100) / 10} s.`;
  return `${server.name} failed: ${message.slice(0, 300)}`;
}

async function withClient<T>(server: ToolServer, signal: AbortSignal, use: (client: Client) => Promise<T>): Promise<T> {
  const transport = new StreamableHTTPClientTransport(new URL(server.url), {
    requestInit: { headers: server.headers, signal },
    fetch: boundedFetch,
  });
  const client = new Client({ name: "parley", version: "1" });
  try {
    await client.connect(transport, { signal });
    return await use(client);
  } finally {
    await client.close().catch(() => {});
  }
}

/** The tools a server offers, or the sentence saying why they could not be listed. */
export async function listTools(server: ToolServer): Promise<{ tools: ToolInfo[] } | { error: string }> {
  const signal = AbortSignal.timeout(LIST_TIMEOUT_MS);
  try {
    const tools = await withClient(server, signal, async (client) => {
      const found: ToolInfo[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { signal, timeout: LIST_TIMEOUT_MS });
        for (const t of page.tools)
          found.push({
            name: t.name,
            description: t.description ?? "",
            inputSchema: t.inputSchema as Record<string, unknown>,
          });
        cursor = page.nextCursor;
      } while (cursor && found.length < 1000);
      return found;
    });
    return { tools };
  } catch (err) {
    return { error: sentence(server, err, signal, LIST_TIMEOUT_MS) };
  }
}

/** At most `maxBytes` of UTF-8, cut at a character's edge. */
function cut(text: string, maxBytes: number): { text: string; truncated: boolean } {
  const bytes = Buffer.from(text);
  if (bytes.byteLength <= maxBytes) return { text, truncated: false };
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return { text: bytes.subarray(0, end).toString(), truncated: true };
}

/** A result's content as text: text parts whole, anything else named in a line. */
function resultText(content: unknown): string {
  if (!Array.isArray(content)) return "";
  return content
    .map((part: { type?: unknown; text?: unknown; mimeType?: unknown; resource?: { uri?: unknown } }) => {
      if (part?.type === "text" && typeof part.text === "string") return part.text;
      if (part?.type === "image" || part?.type === "audio")
        return `[${part.type}${typeof part.mimeType === "string" ? ` ${part.mimeType}` : ""}]`;
      if (part?.type === "resource" || part?.type === "resource_link")
        return `[resource ${typeof part.resource?.uri === "string" ? part.resource.uri : ""}]`.replace(" ]", "]");
      return "[content of another kind]";
    })
    .join("\n");
}

/**
 * Calls a tool with the model's arguments. Never throws: a failure, a timeout or an abort is an
 * error result with its sentence. The text is cut to `maxBytes`, and the model told so.
 */
export async function callTool(
  server: ToolServer,
  name: string,
  args: Record<string, unknown>,
  opts: { signal?: AbortSignal; timeoutMs: number; maxBytes: number },
): Promise<ToolResult> {
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  try {
    const result = await withClient(server, signal, (client) =>
      client.callTool({ name, arguments: args }, undefined, { signal, timeout: opts.timeoutMs }),
    );
    const { text, truncated } = cut(resultText(result.content), opts.maxBytes);
    const note = truncated ? `\n[The result was cut at ${Math.round(opts.maxBytes / 1024)} KB.]` : "";
    return { text: text + note, isError: result.isError === true, truncated };
  } catch (err) {
    if (opts.signal?.aborted) return { text: "The call was stopped.", isError: true, truncated: false };
    return { text: sentence(server, err, timeout, opts.timeoutMs), isError: true, truncated: false };
  }
}
