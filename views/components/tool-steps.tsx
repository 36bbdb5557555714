import type { ToolStep } from "../../src/tools/types.ts";

/** The most of a call's arguments or result a step shows (the model gets the whole result, up to TOOL_RESULT_KB). */
const SHOWN_CHARS = 2000;

const shown = (text: string) =>
  text.length > SHOWN_CHARS
    ? `${text.slice(0, SHOWN_CHARS)}\n… (${(text.length - SHOWN_CHARS).toLocaleString("en")} more characters)`
    : text;

/** Arguments as the model wrote them, laid out when they are JSON. */
function pretty(args: string): string {
  try {
    return JSON.stringify(JSON.parse(args), null, 2);
  } catch {
    return args;
  }
}

const SUMMARY: Record<ToolStep["state"], (s: ToolStep) => string> = {
  approval: (s) => `${s.tool} (${s.server}) wants to run: approve it?`,
  running: (s) => `Running ${s.tool} (${s.server})…`,
  done: (s) => `Used ${s.tool} (${s.server})`,
  error: (s) => `${s.tool} (${s.server}) failed`,
  denied: (s) => `${s.tool} (${s.server}): denied`,
  stopped: (s) => `${s.tool} (${s.server}): stopped`,
};

const pre =
  "mt-1 max-h-60 overflow-auto rounded-lg bg-zinc-100 p-2 font-mono text-xs whitespace-pre-wrap break-words dark:bg-zinc-900";

/** Approve or Deny of a step waiting for it, sent over the tab's socket. */
function Decision({
  messageId,
  stepId,
  approve,
}: {
  messageId: string;
  stepId: string;
  approve: boolean;
}): JSX.Element {
  const look = approve
    ? "bg-indigo-600 text-white hover:bg-indigo-500"
    : "border border-zinc-300 text-zinc-800 hover:bg-zinc-100 dark:border-zinc-700 dark:text-zinc-100 dark:hover:bg-zinc-800";
  return (
    <form ws-send>
      <input type="hidden" name="action" value="tool" />
      <input type="hidden" name="message" value={messageId} />
      <input type="hidden" name="step" value={stepId} />
      <input type="hidden" name="approve" value={approve ? "yes" : "no"} />
      <button type="submit" class={`min-h-9 rounded-lg px-3 font-semibold ${look}`}>
        {approve ? "Approve" : "Deny"}
      </button>
    </form>
  );
}

/** One tool call of an answer: what was called with what, and what came back. Open while it waits for approval. */
export function ToolStepView({
  messageId,
  step,
  oob,
}: {
  messageId: string;
  step: ToolStep;
  oob?: boolean;
}): JSX.Element {
  return (
    <details
      id={`step-${messageId}-${step.id}`}
      hx-swap-oob={oob ? "true" : undefined}
      data-tool-step={step.state}
      open={step.state === "approval"}
      class="rounded-xl border border-zinc-200 px-3 py-2 text-sm dark:border-zinc-800"
    >
      <summary class="cursor-pointer font-medium text-zinc-700 dark:text-zinc-300" safe>
        {SUMMARY[step.state](step)}
      </summary>
      <p class="mt-2 text-xs font-semibold text-zinc-500 dark:text-zinc-400">Arguments</p>
      <pre class={pre} tabindex="0" safe>
        {shown(pretty(step.arguments))}
      </pre>
      {step.result !== undefined ? (
        <>
          <p class="mt-2 text-xs font-semibold text-zinc-500 dark:text-zinc-400">Result</p>
          <pre class={pre} tabindex="0" safe>
            {shown(step.result)}
          </pre>
        </>
      ) : (
        ""
      )}
      {step.state === "approval" ? (
        <div class="mt-2 flex gap-2">
          <Decision messageId={messageId} stepId={step.id} approve />
          <Decision messageId={messageId} stepId={step.id} approve={false} />
        </div>
      ) : (
        ""
      )}
    </details>
  );
}

/** An answer's tool calls, in order; while it is written, new ones are added at the end. */
export function ToolSteps({
  messageId,
  steps,
  streaming,
}: {
  messageId: string;
  steps: ToolStep[] | null;
  streaming: boolean;
}): JSX.Element {
  if (!steps?.length && !streaming) return "";
  return (
    <div id={`msg-${messageId}-steps`} class="mb-2 flex flex-col gap-2 empty:hidden">
      {(steps ?? []).map((step) => (
        <ToolStepView messageId={messageId} step={step} />
      ))}
    </div>
  );
}
