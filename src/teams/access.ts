import type { Db } from "../db/client.ts";
import { allowListsOf } from "./repo.ts";

/** How many patterns one group's allow-list may hold, and how long each may be. */
export const MAX_PATTERNS = 200;
export const MAX_PATTERN_LENGTH = 200;

// "provider/model" as OpenRouter spells ids ("meta-llama/llama-3.1-8b-instruct:free",
// "~anthropic/claude-latest"), optionally ending in one "*" after the slash: "anthropic/*",
// "openai/gpt-4o*". No other "*", no spaces.
const PATTERN = /^[a-z0-9~][a-z0-9._:~-]*\/([a-z0-9._:~/-]*\*|[a-z0-9._:~/-]+)$/;

/** The sentence a refused model gets, wherever it was asked for. */
export function notAllowed(model: string): string {
  return `Your groups do not allow the model ${model}; choose another.`;
}

/** Whether a model id matches one pattern: exactly, or by the prefix before a trailing "*". */
export function matches(pattern: string, model: string): boolean {
  const id = model.toLowerCase();
  return pattern.endsWith("*") ? id.startsWith(pattern.slice(0, -1)) : id === pattern;
}

/** What is wrong with one pattern, as a sentence naming it; undefined when it is fine. */
export function patternProblem(pattern: string): string | undefined {
  const shown = pattern.length > 60 ? `${pattern.slice(0, 60)}…` : pattern;
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return `The pattern “${shown}” is ${pattern.length} characters long; a pattern can be at most ${MAX_PATTERN_LENGTH}.`;
  }
  if (/\s/.test(pattern)) return `The pattern “${shown}” has a space in it; write one model id or pattern per line.`;
  if (pattern === "*") {
    return "The pattern “*” would allow every model: choose “Every model” instead, or name a provider, as in anthropic/*.";
  }
  if (!PATTERN.test(pattern)) {
    return `The pattern “${shown}” is not a model id or pattern: write provider/model (openai/gpt-4o-mini), or provider/* for all of a provider's models; a “*” may only end a pattern, after the “/”.`;
  }
  return undefined;
}

/**
 * An allow-list as typed (one pattern a line, or separated by commas): the patterns, lowercased,
 * each once, in the order given; or the sentence that names the first bad one. Blank lines are
 * ignored; a list with no pattern at all is refused (that would allow nothing).
 */
export function parseAllowList(raw: unknown): { patterns: string[] } | { problem: string } {
  const text = typeof raw === "string" ? raw : "";
  const patterns = [
    ...new Set(
      text
        .split(/[\n,]/)
        .map((p) => p.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  if (!patterns.length) {
    return { problem: "List at least one model or pattern, or choose “Every model” to restrict none." };
  }
  if (patterns.length > MAX_PATTERNS) {
    return { problem: `That list has ${patterns.length} patterns; a group can have at most ${MAX_PATTERNS}.` };
  }
  for (const p of patterns) {
    const problem = patternProblem(p);
    if (problem) return { problem };
  }
  return { patterns };
}

/**
 * Whether a model is allowed by a person's groups' allow-lists (null: a group that restricts
 * nothing). Groups grant models, they never take them away:
 * - in no group, or in any group without a list: every model;
 * - otherwise: a model one of their lists matches.
 * So a person in a restricted group and an unrestricted one may use every model: to restrict
 * someone, every group they are in must have a list.
 */
export function allowedBy(lists: (string[] | null)[]): (model: string) => boolean {
  if (!lists.length || lists.some((l) => l === null)) return () => true;
  const patterns = (lists as string[][]).flat();
  return (model) => typeof model === "string" && patterns.some((p) => matches(p, model));
}

/**
 * Which models a person may use (their groups' allow-lists, see allowedBy). Admins follow the
 * same rule: being an admin is about looking after people, not about spending on any model.
 */
export async function allowedModels(db: Db, userId: string): Promise<(model: string) => boolean> {
  return allowedBy(await allowListsOf(db, userId));
}

/** The sentence refusing a model to a person, or undefined when their groups allow it. */
export async function modelRefusal(db: Db, userId: string, model: string): Promise<string | undefined> {
  return (await allowedModels(db, userId))(model) ? undefined : notAllowed(model);
}
