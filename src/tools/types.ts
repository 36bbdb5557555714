/**
 * One tool call of an answer, stored with the message (messages.tool_steps) in the order made: see src/db/schema/tools.ts for the servers.
 * `at` is how much of the answer's text had been written when the model called it: the step
 * shows there, between the text before and after.
 */
export type ToolStep = {
  /** The model's id for the call (tool_call.id). */
  id: string;
  serverId: string;
  /** The server's name when the call was made (it may be renamed or removed later). */
  server: string;
  tool: string;
  /** The arguments as the model wrote them (JSON text, perhaps malformed). */
  arguments: string;
  state: "approval" | "running" | "done" | "error" | "denied" | "stopped";
  /** What was given back to the model: the result's text, or the error's sentence. */
  result?: string;
  at: number;
  /** How long the call took, once it ended. */
  ms?: number;
};
