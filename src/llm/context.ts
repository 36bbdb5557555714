import type { ChatTurn, ContentPart } from "./openrouter.ts";

/**
 * What an image costs a model, cautiously: providers scale an image down to about 1,600 px on its
 * longest side (Anthropic: about 1,600 tokens at most; OpenAI's high detail: up to about 1,100).
 */
export const IMAGE_TOKENS = 1600;

/**
 * A cautious token estimate: about three characters a token (code and non-Latin text run
 * denser than English prose's four), plus a few tokens of framing per message; an image its
 * fixed cost; a PDF a token for every 10 bytes (text-heavy PDFs run 5 to 15).
 */
export function estimateTokens(turn: ChatTurn): number {
  if (typeof turn.content === "string") return Math.ceil(turn.content.length / 3) + 4;
  return turn.content.reduce((sum, part) => sum + partTokens(part), 4);
}

function partTokens(part: ContentPart): number {
  if (part.type === "text") return Math.ceil(part.text.length / 3);
  if (part.type === "image_url") return IMAGE_TOKENS;
  // A data URL's base64 is four characters for every three bytes.
  return Math.ceil((part.file.file_data.length * 3) / 4 / 10);
}

/** Turns never dropped to make room: system prompts, unless the caller names more. */
export type Kept = (turn: ChatTurn) => boolean;
const systemOnly: Kept = (turn) => turn.role === "system";

/**
 * Drops the oldest turns until the conversation fits the model's context, leaving room for the
 * answer. System prompts (or the turns `kept` names) and the newest turn are always kept,
 * whatever their size.
 */
export function fitToContext<T extends ChatTurn>(
  turns: T[],
  contextLength: number | null | undefined,
  kept: Kept = systemOnly,
): T[] {
  if (!contextLength || turns.length === 0) return turns;
  const budget = budgetOf(contextLength);
  const newest = turns.at(-1)!;
  const older = turns.slice(0, -1);
  let used = estimateTokens(newest);
  for (const turn of older) if (kept(turn)) used += estimateTokens(turn);
  const keep = new Set<ChatTurn>();
  for (let i = older.length - 1; i >= 0; i--) {
    const turn = older[i]!;
    if (kept(turn)) continue;
    const cost = estimateTokens(turn);
    if (used + cost > budget) break;
    used += cost;
    keep.add(turn);
  }
  return [...older.filter((t) => kept(t) || keep.has(t)), newest];
}

/**
 * The tokens left in the model's context (less room for the answer) beside the turns that are
 * always kept: the system prompts and the newest turn. Infinity when the context is unknown.
 */
export function tokensLeft(turns: ChatTurn[], contextLength: number | null | undefined): number {
  if (!contextLength) return Number.POSITIVE_INFINITY;
  const always = turns.filter((t, i) => t.role === "system" || i === turns.length - 1);
  return budgetOf(contextLength) - always.reduce((sum, t) => sum + estimateTokens(t), 0);
}

/** The tokens a request may take: the model's context less room for the answer. */
const budgetOf = (contextLength: number) => contextLength - Math.min(4096, Math.floor(contextLength / 4));

/** What an image left out of a request says in its place. */
export const IMAGE_LEFT_OUT = "(image left out: the conversation is too long for the model to see it again)";

/**
 * Leaves out older turns' images, oldest first, while the conversation is over the model's
 * context: before any words are dropped, pictures go. The newest turn keeps its own, and so do
 * the turns `kept` names. Each image left out becomes a line saying so, beside the label the
 * attachment step put before it.
 */
export function dropOlderImages<T extends ChatTurn>(
  turns: T[],
  contextLength: number | null | undefined,
  kept: Kept = () => false,
): { turns: T[]; dropped: number } {
  if (!contextLength || turns.length < 2) return { turns, dropped: 0 };
  const budget = budgetOf(contextLength);
  let used = turns.reduce((sum, t) => sum + estimateTokens(t), 0);
  let dropped = 0;
  const fitted = turns.map((turn, i) => {
    if (used <= budget || i === turns.length - 1 || kept(turn) || typeof turn.content === "string") return turn;
    const content = turn.content.map((part): ContentPart => {
      if (part.type !== "image_url" || used <= budget) return part;
      used -= IMAGE_TOKENS;
      dropped++;
      return { type: "text", text: IMAGE_LEFT_OUT };
    });
    return { ...turn, content };
  });
  return { turns: fitted, dropped };
}
