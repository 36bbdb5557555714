import type { ChatTurn } from "./openrouter.ts";

/**
 * A cautious token estimate: about three characters a token (code and non-Latin text run
 * denser than English prose's four), plus a few tokens of framing per message.
 */
export function estimateTokens(turn: ChatTurn): number {
  return Math.ceil(turn.content.length / 3) + 4;
}

/**
 * Drops the oldest turns until the conversation fits the model's context, leaving room for the
 * answer. System prompts and the newest turn are always kept, whatever their size.
 */
export function fitToContext(turns: ChatTurn[], contextLength: number | null | undefined): ChatTurn[] {
  if (!contextLength || turns.length === 0) return turns;
  const budget = contextLength - Math.min(4096, Math.floor(contextLength / 4));
  const newest = turns.at(-1)!;
  const older = turns.slice(0, -1);
  let used = estimateTokens(newest);
  for (const turn of older) if (turn.role === "system") used += estimateTokens(turn);
  const keep = new Set<ChatTurn>();
  for (let i = older.length - 1; i >= 0; i--) {
    const turn = older[i]!;
    if (turn.role === "system") continue;
    const cost = estimateTokens(turn);
    if (used + cost > budget) break;
    used += cost;
    keep.add(turn);
  }
  return [...older.filter((t) => t.role === "system" || keep.has(t)), newest];
}
