import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messages } from "../../src/db/schema.ts";
import { createServer, setChatServers } from "../../src/tools/repo.ts";
import {
  FAKE_CALLER,
  FAKE_MODELS,
  type FakeUpstream,
  fakeEnv,
  type RecordedRequest,
  startFakeUpstream,
} from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { startMcpServer, type TestMcpServer } from "../support/mcp-server.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import type { TestSocket } from "../support/ws.ts";
import { finished } from "../support/ws.ts";

/*
 * An answer that calls tools over MCP: a real MCP server (the SDK's), the fake upstream asking
 * for tool calls as OpenRouter streams them, and the loop in between: steps shown live and
 * stored, approval, Stop during a call, and the bounds (calls per answer, time per call).
 */

let fake: FakeUpstream;
let mcp: TestMcpServer;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, FAKE_CALLER] });
  mcp = startMcpServer();
});
afterAll(async () => {
  await fake.stop();
  await mcp.stop();
});

eachDriver("tools over MCP in an answer", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, { ...fakeEnv(fake), TOOL_CALLS_PER_ANSWER: "2", TOOL_CALL_TIMEOUT_MS: "1500" });
  });
  afterAll(() => server.stop());

  let made = 0;
  /** A chat using a new registration of the test MCP server (its name makes the functions' names). */
  const chatWithTools = async (opts: { approval?: boolean; model?: string; tools?: string[] } = {}) => {
    const name = `Calc${++made}`;
    const registered = await createServer(t.database.db, {
      name,
      url: mcp.url,
      headers: {},
      enabledTools: opts.tools ?? ["add", "sleep", "fail"],
      requireApproval: opts.approval ?? false,
    });
    if (registered === "taken") throw new Error("taken");
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Tools", model: opts.model ?? "fake/caller" })
      .returning();
    expect(await setChatServers(t.database.db, server.user.id, chat!.id, [registered.id])).toBe(true);
    return { chat: chat!, fn: (tool: string) => `${name}_${tool}` };
  };
  const messageRow = async (id: string) => (await t.database.db.select().from(messages).where(eq(messages.id, id)))[0]!;

  /** Sends over the chat's socket; the answer's id once it started, and the socket (still open). */
  async function send(chatId: string, content: string): Promise<{ answerId: string; ws: TestSocket; from: number }> {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    return { answerId: /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!, ws, from };
  }
  const streamsFor = (chatId: string, before: number) =>
    fake.requests
      .slice(before)
      .filter((r) => r.body.stream && r.body.messages.some((m) => m.content === `for ${chatId}`));

  test("the model calls a tool: the step streams to the tab, the result goes back to the model, and all of it is stored", async () => {
    const { chat, fn } = await chatWithTools();
    const before = fake.requests.length;
    fake.queue({ text: "Let me add. ", toolCalls: [{ name: fn("add"), arguments: '{"a": 2, "b": 40}' }] });
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    const running = await ws.waitFor((m) => m.includes("data-tool-step"), { from });
    expect(running).toContain(`id="step-${answerId}-`);
    const done = await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect(done).toContain("Used add (Calc");
    expect(done).toContain("The tool said: 42");

    const [first, second] = streamsFor(chat.id, before) as [RecordedRequest, RecordedRequest];
    const tools = first.body.tools as {
      type: string;
      function: { name: string; parameters: { properties: object } };
    }[];
    expect(tools.map((x) => x.function.name).sort()).toEqual([fn("add"), fn("fail"), fn("sleep")].sort());
    expect(tools.find((x) => x.function.name === fn("add"))!.function.parameters.properties).toMatchObject({
      a: { type: "number" },
      b: { type: "number" },
    });
    const [assistant, result] = second.body.messages.slice(-2) as [
      { role: string; content: string; tool_calls: { id: string; function: { name: string; arguments: string } }[] },
      { role: string; content: string; tool_call_id: string },
    ];
    expect(assistant.role).toBe("assistant");
    expect(assistant.content).toBe("Let me add. ");
    expect(assistant.tool_calls[0]!.function).toEqual({ name: fn("add"), arguments: '{"a": 2, "b": 40}' });
    expect(result).toMatchObject({ role: "tool", content: "42", tool_call_id: assistant.tool_calls[0]!.id });
    expect(mcp.calls.at(-1)).toEqual({ name: "add", args: { a: 2, b: 40 } });

    const row = await messageRow(answerId);
    expect(row.status).toBe("complete");
    expect(row.content).toBe("Let me add. The tool said: 42");
    expect(row.toolSteps).toMatchObject([{ tool: "add", state: "done", result: "42", arguments: '{"a": 2, "b": 40}' }]);
    // Two requests, one answer: the usage of both.
    expect(row.promptTokens).toBe(24);
    // A reload shows the step.
    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(page).toContain("Used add (Calc");
  });

  test("a server that asks for approval: the call waits with its arguments for Approve or Deny", async () => {
    const { chat, fn } = await chatWithTools({ approval: true });
    fake.queue(
      { toolCalls: [{ name: fn("add"), arguments: '{"a": 1, "b": 1}' }] },
      { toolCalls: [{ name: fn("add"), arguments: '{"a": 5, "b": 5}' }] },
    );
    const calls = mcp.calls.length;
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    const asking = await ws.waitFor((m) => m.includes('data-tool-step="approval"'), { from });
    expect(asking).toContain("wants to run: approve it?");
    expect(asking).toContain("&quot;a&quot;: 1");
    const stepId = /id="step-[0-9a-f-]+-([A-Za-z0-9_-]+)"/.exec(asking)![1]!;
    expect(mcp.calls.length).toBe(calls);
    ws.send({ action: "tool", message: answerId, step: stepId, approve: "yes" });
    const second = await ws.waitFor((m) => m.includes('data-tool-step="approval"') && !m.includes(stepId), { from });
    const secondId = /id="step-[0-9a-f-]+-([A-Za-z0-9_-]+)"/.exec(second)![1]!;
    ws.send({ action: "tool", message: answerId, step: secondId, approve: "no" });
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect(mcp.calls.length).toBe(calls + 1);
    const row = await messageRow(answerId);
    expect(row.toolSteps!.map((s) => [s.state, s.result])).toEqual([
      ["done", "2"],
      ["denied", "The person denied this call."],
    ]);
    expect(row.content).toBe("The tool said: The person denied this call.");
  });

  test("Stop during a call stops the call and the answer, keeping what was written", async () => {
    const { chat, fn } = await chatWithTools();
    fake.queue({ text: "Waiting a while. ", toolCalls: [{ name: fn("sleep"), arguments: '{"ms": 60000}' }] });
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    await ws.waitFor((m) => m.includes('data-tool-step="running"'), { from });
    ws.send({ action: "stop", message: answerId });
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    const row = await messageRow(answerId);
    expect(row.status).toBe("stopped");
    expect(row.content).toBe("Waiting a while. ");
    expect(row.toolSteps!.map((s) => s.state)).toEqual(["stopped"]);
  });

  test("bounds: a call that outlasts TOOL_CALL_TIMEOUT_MS and a tool that fails give the model an error; past TOOL_CALLS_PER_ANSWER calls are refused and the model answers without tools", async () => {
    const { chat, fn } = await chatWithTools();
    const before = fake.requests.length;
    fake.queue(
      { toolCalls: [{ name: fn("sleep"), arguments: '{"ms": 30000}' }] },
      {
        toolCalls: [
          { name: fn("fail"), arguments: "{}" },
          { name: fn("add"), arguments: '{"a":1,"b":2}' },
        ],
      },
      { text: "Done trying." },
    );
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    const row = await messageRow(answerId);
    expect(row.status).toBe("complete");
    expect(row.toolSteps!.map((s) => [s.tool, s.state, s.result])).toEqual([
      ["sleep", "error", `${row.toolSteps![0]!.server} did not answer within 1.5 s.`],
      ["fail", "error", "the tool broke, as asked"],
      ["add", "error", "This answer has made its 2 tool calls (TOOL_CALLS_PER_ANSWER); answer with what you have."],
    ]);
    const requests = streamsFor(chat.id, before);
    expect(requests.length).toBe(3);
    expect(requests[2]!.body.tools).toBeUndefined();
    expect(row.content).toBe("Done trying.");
  });

  test("a model that does not call tools is offered none, and a chat without servers none either", async () => {
    const { chat } = await chatWithTools({ model: "fake/fast" });
    const before = fake.requests.length;
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    await ws.waitFor(finished(answerId), { from });
    // The person is told why.
    await ws.waitFor(
      (m) => m.includes("Fake Fast cannot call tools: this answer is written without the chat&#x27;s tools."),
      {
        from,
      },
    );
    await ws.close();
    expect(streamsFor(chat.id, before)[0]!.body.tools).toBeUndefined();
  });

  test("Approve from another person, or for a step that waits for nothing, does nothing", async () => {
    const { chat, fn } = await chatWithTools({ approval: true });
    fake.queue({ toolCalls: [{ name: fn("add"), arguments: '{"a": 3, "b": 4}' }] });
    const { answerId, ws, from } = await send(chat.id, `for ${chat.id}`);
    const asking = await ws.waitFor((m) => m.includes('data-tool-step="approval"'), { from });
    const stepId = /id="step-[0-9a-f-]+-([A-Za-z0-9_-]+)"/.exec(asking)![1]!;
    const other = await server.signUp("mallory");
    const theirs = await other.socket("/ws");
    theirs.send({ action: "tool", message: answerId, step: stepId, approve: "yes" });
    ws.send({ action: "tool", message: answerId, step: "no-such-step", approve: "yes" });
    await Bun.sleep(300);
    expect((await messageRow(answerId)).toolSteps!.map((s) => s.state)).toEqual(["approval"]);
    await theirs.close();
    ws.send({ action: "tool", message: answerId, step: stepId, approve: "yes" });
    await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect((await messageRow(answerId)).toolSteps!.map((s) => s.result)).toEqual(["7"]);
  });
});
