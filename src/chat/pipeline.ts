import type { Message } from "../db/schema.ts";
import { fitToContext } from "../llm/context.ts";
import type { Generations } from "../llm/generations.ts";
import type { AnswerParams, ChatTurn, Model } from "../llm/openrouter.ts";
import type { ChatCore } from "./core.ts";
import { chatSettings } from "./repos/chats.ts";
import type { Turn } from "./repos/exchange.ts";
import type { SendLimits } from "./send-limits.ts";
import { answerParams, type ChatSettings } from "./settings.ts";

/*
 * The send pipeline: every path that asks for an answer (send, a new chat, retry, regenerate,
 * edit) goes through `run`, and what goes upstream is composed here alone, as a list of steps.
 * A capability that changes the request (attachments, web search, tools) is one more step.
 *
 *   admit (the person's limits) → save (the message and an empty answer, under the chat's lock)
 *   → read the chat's settings and the model → branchHistory → withInstructions → fitToModel
 *   → withParams → start the generation
 *
 * Limits come before the save so a refused send stores nothing. The instructions are added
 * before fitting so the fit counts them (it never drops them). The pipeline knows nothing of
 * sockets or HTML: the exchange announces what was saved, the generation streams the answer.
 */

/** One answer's request as the steps build it. */
export type Draft = {
  /** The empty answer just saved, which the request will write. */
  answer: Message;
  /** The branch shown, as saved with the answer: its question last (and maybe the answer). */
  history: Turn[];
  /** The answer's model as the catalog lists it; undefined when unknown. */
  model: Model | undefined;
  /** The chat's system prompt and parameters; undefined when the chat is gone. */
  settings: ChatSettings | undefined;
  /** What goes upstream, built by the steps. */
  messages: ChatTurn[];
  params: AnswerParams;
};

export type Step = (draft: Draft) => Draft;

/** The conversation before the answer: what was said and every answer that ended well enough to keep. */
export const branchHistory: Step = (draft) => {
  const sendable = (m: Turn) => m.content && (m.role !== "assistant" || ["complete", "stopped"].includes(m.status));
  const before = draft.history.filter((m) => m.id < draft.answer.id && sendable(m));
  return { ...draft, messages: before.map((m) => ({ role: m.role, content: m.content })) };
};

/** The chat's system prompt, first. */
export const withInstructions: Step = (draft) => {
  const prompt = draft.settings?.systemPrompt;
  return prompt ? { ...draft, messages: [{ role: "system", content: prompt }, ...draft.messages] } : draft;
};

/** The oldest turns dropped until the request fits the model's context (instructions are kept). */
export const fitToModel: Step = (draft) => ({
  ...draft,
  messages: fitToContext(draft.messages, draft.model?.contextLength),
});

/** The chat's parameters that its model takes. */
export const withParams: Step = (draft) => ({
  ...draft,
  params: draft.settings ? answerParams(draft.settings, draft.model) : {},
});

export const STEPS: readonly Step[] = [branchHistory, withInstructions, fitToModel, withParams];

/** Runs the steps over a draft, in order. */
export function compose(draft: Draft, steps: readonly Step[] = STEPS): Draft {
  return steps.reduce((d, step) => step(d), draft);
}

/** What a save step hands on: the empty answer it stored and the branch it follows. */
export type Saved = { answer: Message; history: Turn[] };

export function createSendPipeline(core: ChatCore, generations: Generations, limits: SendLimits) {
  /** The request for a saved answer, composed and started upstream. */
  async function start(userId: string, { answer, history }: Saved) {
    const [model, settings] = await Promise.all([
      core.models.find(answer.model!),
      chatSettings(core.db, answer.chatId),
    ]);
    const draft = compose({ answer, history, model, settings, messages: [], params: {} });
    generations.start({
      userId,
      chatId: answer.chatId,
      messageId: answer.id,
      // The chat's first answer: its question is the only message before it.
      first: history.filter((m) => m.id < answer.id).length === 1,
      // An answer is always stored with the model it is written by.
      model: answer.model!,
      messages: draft.messages,
      params: draft.params,
    });
  }

  return {
    /**
     * One send, from the person's click to the answer streaming: `save` runs under the chat's
     * lock and calls `admit` once its own checks pass (the limits then count the send), stores
     * the message and an empty answer, and announces them; then the request is composed and started.
     */
    async run(userId: string, chatId: string, save: (admit: () => void) => Promise<Saved>) {
      let release: (() => void) | undefined;
      try {
        const saved = await core.locks.run(chatId, () =>
          save(() => {
            release = limits.admit(userId);
          }),
        );
        await start(userId, saved);
      } finally {
        release?.();
      }
    },
  };
}

export type SendPipeline = ReturnType<typeof createSendPipeline>;
