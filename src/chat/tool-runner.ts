import { sql } from "drizzle-orm";
import type { McpServer } from "../db/schema.ts";
import type { Generation } from "../llm/generation.ts";
import type { ToolCall, ToolDefinition } from "../llm/openrouter.ts";
import { callTool, listTools, type ToolInfo } from "../tools/client.ts";
import { toolsForChat } from "../tools/repo.ts";
import type { ToolStep } from "../tools/types.ts";
import type { ChatCore } from "./core.ts";

/*
 * Tools over MCP inside an answer: which tools a chat's answer is offered (its servers' enabled
 * tools, described as the servers list them), and each call the model makes: shown as a step in
 * every tab (and stored with the message, so a reload or another instance shows it too), approved
 * by the person where the server asks for it, run within TOOL_CALL_TIMEOUT_MS, its result cut to
 * TOOL_RESULT_KB for the model. Stop ends a call in flight, or one waiting for approval.
 */

/** How long a server's tool list is reused before it is asked again. */
const LIST_TTL_MS = 60_000;
/** The most characters of a result a step keeps for display (the model is given up to TOOL_RESULT_KB). */
const STEP_RESULT_CHARS = 4000;

type Offered = { server: McpServer; tool: string };

/** A function name OpenAI's format accepts (letters, digits, _ and -, at most 64), unique per answer. */
function functionName(server: string, tool: string, taken: Set<string>): string {
  const base = `${server}_${tool}`.replace(/[^A-Za-z0-9_-]+/g, "_").slice(0, 60);
  let name = base;
  for (let i = 2; taken.has(name); i++) name = `${base.slice(0, 58)}_${i}`;
  taken.add(name);
  return name;
}

export function createToolRunner(core: ChatCore) {
  const { db, config, broadcast, log } = core;
  const lists = new Map<string, { at: number; updatedAt: number; tools: ToolInfo[] }>();
  /** By answer: the functions offered to it, and its steps so far. */
  const answers = new Map<string, { offered: Map<string, Offered>; steps: ToolStep[] }>();
  const decisions = new Map<string, (approved: boolean) => void>();

  async function toolsOf(server: McpServer): Promise<ToolInfo[]> {
    const cached = lists.get(server.id);
    if (cached && cached.updatedAt === server.updatedAt.getTime() && performance.now() - cached.at < LIST_TTL_MS)
      return cached.tools;
    const listed = await listTools({ name: server.name, url: server.url, headers: server.headers });
    if ("error" in listed) {
      log.warn("could not list an MCP server's tools", { server: server.name, reason: listed.error });
      return [];
    }
    lists.set(server.id, { at: performance.now(), updatedAt: server.updatedAt.getTime(), tools: listed.tools });
    return listed.tools;
  }

  async function saveSteps(messageId: string, steps: ToolStep[]) {
    await db.execute(sql`update messages set tool_steps = ${JSON.stringify(steps)}::jsonb where id = ${messageId}`);
  }

  async function show(g: Generation, step: ToolStep, added: boolean) {
    broadcast.toolStep(g.chatId, g.messageId, step, added);
    await saveSteps(g.messageId, answers.get(g.messageId)!.steps).catch((err) =>
      log.warn("could not save an answer's tool steps", { messageId: g.messageId, error: err }),
    );
  }

  function approval(g: Generation, step: ToolStep): Promise<boolean> {
    const key = `${g.messageId}:${step.id}`;
    return new Promise((resolve) => {
      const stop = () => resolve(false);
      g.controller.signal.addEventListener("abort", stop, { once: true });
      decisions.set(key, (approved) => {
        g.controller.signal.removeEventListener("abort", stop);
        resolve(approved);
      });
    }).finally(() => decisions.delete(key)) as Promise<boolean>;
  }

  return {
    /**
     * The tools a chat's answer may call, for the request, and remembered for the answer's loop.
     * None when the chat uses no server, or the model does not call tools.
     */
    async offer(
      chatId: string,
      messageId: string,
      callsTools: boolean,
    ): Promise<{ definitions: ToolDefinition[]; unused: boolean }> {
      const servers = await toolsForChat(db, chatId);
      // The chat has tools its model cannot call: the person is told, and the answer goes without.
      if (!servers.length || !callsTools) return { definitions: [], unused: servers.length > 0 };
      const offered = new Map<string, Offered>();
      const definitions: ToolDefinition[] = [];
      const taken = new Set<string>();
      for (const server of servers) {
        const enabled = new Set(server.enabledTools);
        for (const tool of await toolsOf(server)) {
          if (!enabled.has(tool.name)) continue;
          const name = functionName(server.name, tool.name, taken);
          offered.set(name, { server, tool: tool.name });
          definitions.push({ name, description: tool.description, parameters: tool.inputSchema });
        }
      }
      if (definitions.length) answers.set(messageId, { offered, steps: [] });
      return { definitions, unused: false };
    },

    /** One call of the answer's loop (the generation hook): shown, maybe approved, run, shown again. */
    async run(g: Generation, call: ToolCall, overLimit: boolean): Promise<string> {
      const answer = answers.get(g.messageId);
      const target = answer?.offered.get(call.function.name);
      if (!answer || !target) return `There is no tool named ${call.function.name}.`;
      const step: ToolStep = {
        id: call.id.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80) || `call_${answer.steps.length}`,
        serverId: target.server.id,
        server: target.server.name,
        tool: target.tool,
        arguments: call.function.arguments,
        state: target.server.requireApproval ? "approval" : "running",
        at: g.md.text.length,
      };
      answer.steps.push(step);
      if (overLimit) {
        step.state = "error";
        step.result = `This answer has made its ${config.toolCallsPerAnswer} tool calls (TOOL_CALLS_PER_ANSWER); answer with what you have.`;
        await show(g, step, true);
        return step.result;
      }
      // Waiting for the decision before the step is shown: an Approve sent the moment it shows must find it.
      const decision = step.state === "approval" ? approval(g, step) : undefined;
      await show(g, step, true);
      if (decision) {
        const approved = await decision;
        if (!approved) {
          step.state = g.controller.signal.aborted ? "stopped" : "denied";
          step.result = g.controller.signal.aborted ? "The answer was stopped." : "The person denied this call.";
          await show(g, step, false);
          return step.result;
        }
        step.state = "running";
        await show(g, step, false);
      }
      let args: Record<string, unknown> = {};
      try {
        const parsed = call.function.arguments.trim() ? JSON.parse(call.function.arguments) : {};
        if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
        args = parsed;
      } catch {
        step.state = "error";
        step.result = "The arguments were not a JSON object; the tool was not called.";
        await show(g, step, false);
        return step.result;
      }
      const started = performance.now();
      const result = await callTool(
        { name: target.server.name, url: target.server.url, headers: target.server.headers },
        target.tool,
        args,
        { signal: g.controller.signal, timeoutMs: config.toolCallTimeout, maxBytes: config.toolResultKb * 1024 },
      );
      step.state = g.controller.signal.aborted ? "stopped" : result.isError ? "error" : "done";
      step.result = result.text.slice(0, STEP_RESULT_CHARS);
      step.ms = Math.round(performance.now() - started);
      await show(g, step, false);
      return result.text;
    },

    /** The person's Approve or Deny of a step waiting for it; false when none waits (already decided, or not theirs). */
    decide(userId: string, g: Generation | undefined, stepId: unknown, approved: boolean): boolean {
      if (!g || g.userId !== userId || typeof stepId !== "string") return false;
      const decide = decisions.get(`${g.messageId}:${stepId}`);
      decide?.(approved);
      return Boolean(decide);
    },

    /** The answer ended: nothing of its tools is kept in memory. */
    forget(messageId: string) {
      answers.delete(messageId);
    },
  };
}

export type ToolRunner = ReturnType<typeof createToolRunner>;
