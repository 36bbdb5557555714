import { perTick } from "../db/per-tick.ts";
import type { Message, PdfEngine } from "../db/schema.ts";
import type { FileAnnotation } from "../llm/annotations.ts";
import { dropOlderImages, estimateTokens, fitToContext, type Kept, tokensLeft } from "../llm/context.ts";
import type { Generations } from "../llm/generations.ts";
import {
  type AnswerParams,
  type ChatTurn,
  type ContentPart,
  imageOutput,
  type Model,
  WEB_RESULT_PRICE,
  type WebSearch,
} from "../llm/openrouter.ts";
import { projectFilesFor } from "../projects/files-repo.ts";
import { estimateCost, recordAlongside, reserve, SpendingRefused } from "../teams/spending.ts";
import type { ChatCore } from "./core.ts";
import { annotationsOf } from "./repos/answers.ts";
import { type AttachedFile, attachedFiles } from "./repos/attachments.ts";
import { chatsSettings, type SettingsForAnswer } from "./repos/chats.ts";
import type { Turn } from "./repos/exchange.ts";
import type { SendLimits } from "./send-limits.ts";
import { answerParams, type ChatSettings, settingsOf } from "./settings.ts";
import type { ToolRunner } from "./tool-runner.ts";

/*
 * The send pipeline: every path that asks for an answer (send, a new chat, retry, regenerate,
 * edit) goes through `run`, and what goes upstream is composed here alone, as a list of steps.
 * A capability that changes the request (attachments, web search, tools) is one more step.
 *
 *   admit (the person's limits) → save (the message and an empty answer, under the chat's lock;
 *   the chat's settings read meanwhile) → the model, the branch's attachments → branchHistory
 *   → withAttachments → withInstructions → withProjectInstructions → withProjectFiles → fitImages
 *   → fitToModel → withParams → withParses → withWebSearch
 *   → spend (the request's estimate reserved; only recorded when no limit applies) → start
 *
 * Limits come before the save so a refused send stores nothing. Spending limits are the
 * exception: they need the composed request to estimate its cost, and a message the person
 * wrote is kept either way, so a refused request saves the question with its answer failed with
 * the refusal's sentence (Retry writes it once the limit allows). The instructions are added
 * before fitting so the fit counts them (it never drops them); older images go before any words
 * do. The pipeline knows nothing of sockets or HTML: the exchange announces what was saved and
 * tells the person the pipeline's notices; the generation streams the answer.
 */

/**
 * A message of the request, with the stored message it was made from, and whether the fit must
 * keep it as it keeps instructions (the project's files, fitted on their own): both dropped
 * before it is sent.
 */
export type DraftTurn = ChatTurn & { messageId?: string; pinned?: boolean };

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
  /** The instructions of the chat's project, sent before the chat's own system prompt; null when none. */
  projectInstructions: string | null;
  /** The files attached to the branch's messages, by message id. */
  files: Map<string, AttachedFile[]>;
  /** The files of the chat's project, in order; none outside a project. */
  projectFiles: AttachedFile[];
  /** What OpenRouter's file-parser read for the branch's earlier answers, and with which engine, by answer id. */
  parses: Map<string, { engine: PdfEngine; files: FileAnnotation[] }>;
  /** What goes upstream, built by the steps. */
  messages: DraftTurn[];
  params: AnswerParams;
  /** How the web is searched for this answer; undefined when the chat does not search. */
  webSearch: WebSearch | undefined;
  /** What the person is told about the request (an image left out, and why). */
  notices: string[];
};

export type Step = (draft: Draft) => Draft;

/** The conversation before the answer: what was said and every answer that ended well enough to keep. */
export const branchHistory: Step = (draft) => {
  // A message of files alone (no words) still goes.
  const sendable = (m: Turn) =>
    (m.content || draft.files.has(m.id)) && (m.role !== "assistant" || ["complete", "stopped"].includes(m.status));
  const before = draft.history.filter((m) => m.id < draft.answer.id && sendable(m));
  return { ...draft, messages: before.map((m) => ({ role: m.role, content: m.content, messageId: m.id })) };
};

/**
 * Each message's attachments as parts after its text: images as data URLs (OpenRouter cannot
 * fetch from a self-hosted server) when the model sees images, PDFs as files for OpenRouter's
 * file-parser, text files inline under their name.
 */
export const withAttachments: Step = (draft) => {
  if (!draft.files.size) return draft;
  const blind = draft.model?.inputModalities !== undefined && !draft.model.inputModalities.includes("image");
  let unseen = 0;
  const messages = draft.messages.map((turn) => {
    const attached = turn.messageId ? draft.files.get(turn.messageId) : undefined;
    if (!attached?.length || typeof turn.content !== "string") return turn;
    const parts: ContentPart[] = turn.content ? [{ type: "text", text: turn.content }] : [];
    for (const file of attached) {
      if (file.type.startsWith("image/") && blind) unseen++;
      parts.push(...partsOf(file, blind));
    }
    return { ...turn, content: parts };
  });
  const notices = unseen
    ? [
        ...draft.notices,
        `${draft.model?.name ?? "This model"} cannot see images: ${count(unseen, "image")} left out of this answer's request.`,
      ]
    : draft.notices;
  return { ...draft, messages, notices };
};

function partsOf(file: AttachedFile, blind: boolean): ContentPart[] {
  const dataUrl = () => `data:${file.type};base64,${Buffer.from(file.bytes).toString("base64")}`;
  if (file.type.startsWith("image/")) {
    if (blind)
      return [{ type: "text", text: `(The image “${file.name}” was attached here; this model cannot see images.)` }];
    return [
      { type: "text", text: `Attached image “${file.name}”:` },
      { type: "image_url", image_url: { url: dataUrl() } },
    ];
  }
  if (file.type === "application/pdf") return [{ type: "file", file: { filename: file.name, file_data: dataUrl() } }];
  const text = new TextDecoder().decode(file.bytes);
  const fence = "`".repeat(Math.max(3, ...[...text.matchAll(/`+/g)].map((m) => m[0].length + 1)));
  return [{ type: "text", text: `Attached file “${file.name}”:\n${fence}\n${text}\n${fence}` }];
}

const count = (n: number, what: string) => `${n.toLocaleString("en")} ${what}${n === 1 ? " was" : "s were"}`;

/** The chat's system prompt, first. */
export const withInstructions: Step = (draft) => {
  const prompt = draft.settings?.systemPrompt;
  return prompt ? { ...draft, messages: [{ role: "system", content: prompt }, ...draft.messages] } : draft;
};

/** The instructions of the chat's project, before everything else (the chat's own system prompt included). */
export const withProjectInstructions: Step = (draft) =>
  draft.projectInstructions
    ? { ...draft, messages: [{ role: "system", content: draft.projectInstructions }, ...draft.messages] }
    : draft;

/** What an intro of the project's files says, before them. */
export const PROJECT_FILES_INTRO = "The files of this chat's project, sent with every chat in it:";

/**
 * The project's files, right after the instructions (system prompts) and before the chat's first
 * message, as one user message of their own, kept by the fit below like the instructions. A
 * message of their own rather than parts of the first question: a system message carries text
 * only on most providers (no images, no PDFs), and the first question is the first turn the fit
 * drops in a long chat, which would take the files with it. They are fitted here, on their own:
 * as many as fit beside the instructions and the newest message, in order; those that do not,
 * last first, are left out, and the person is told which. What room they leave is the
 * conversation's.
 */
export const withProjectFiles: Step = (draft) => {
  if (!draft.projectFiles.length) return draft;
  const blind = draft.model?.inputModalities !== undefined && !draft.model.inputModalities.includes("image");
  const left = tokensLeft(draft.messages, draft.model?.contextLength);
  const parts: ContentPart[] = [{ type: "text", text: PROJECT_FILES_INTRO }];
  let used = estimateTokens({ role: "user", content: parts });
  let unseen = 0;
  const leftOut: string[] = [];
  for (const file of draft.projectFiles) {
    const own = partsOf(file, blind);
    const cost = estimateTokens({ role: "user", content: own }) - estimateTokens({ role: "user", content: [] });
    if (leftOut.length || used + cost > left) {
      leftOut.push(file.name);
      continue;
    }
    used += cost;
    parts.push(...own);
    if (blind && file.type.startsWith("image/")) unseen++;
  }
  const notices = [...draft.notices];
  if (unseen) {
    notices.push(
      `${draft.model?.name ?? "This model"} cannot see images: ${count(unseen, "image")} of the project's files left out of this answer's request.`,
    );
  }
  if (leftOut.length) {
    const names = leftOut.map((name) => `“${name}”`).join(", ");
    notices.push(
      `Too long for ${draft.model?.name ?? "the model"} with all the project's files: ${names} ${leftOut.length === 1 ? "was" : "were"} left out of this answer's request.`,
    );
  }
  if (parts.length === 1) return { ...draft, notices };
  const at = draft.messages.findIndex((m) => m.role !== "system");
  const files: DraftTurn = { role: "user", content: parts, pinned: true };
  const messages = [...draft.messages];
  messages.splice(at < 0 ? messages.length : at, 0, files);
  return { ...draft, messages, notices };
};

/** The turns no fit drops: the instructions, and the project's files (fitted on their own). */
const kept: Kept = (turn) => turn.role === "system" || (turn as DraftTurn).pinned === true;

/** Older messages' images left out, oldest first, while the request is over the model's context. */
export const fitImages: Step = (draft) => {
  const { turns, dropped } = dropOlderImages(draft.messages, draft.model?.contextLength, kept);
  if (!dropped) return draft;
  const notice = `This conversation is long for ${draft.model?.name ?? "the model"}: ${count(dropped, "older image")} left out of this answer's request.`;
  return { ...draft, messages: turns, notices: [...draft.notices, notice] };
};

/** The oldest turns dropped until the request fits the model's context (instructions are kept). */
export const fitToModel: Step = (draft) => ({
  ...draft,
  messages: fitToContext(draft.messages, draft.model?.contextLength, kept),
});

/**
 * The chat's parameters that its model takes, pictures asked of a model that draws them, and how
 * PDFs are read (the chat's choice; text extraction unless it chose otherwise) when the request
 * has one.
 */
export const withParams: Step = (draft) => {
  const params = { ...(draft.settings ? answerParams(draft.settings, draft.model) : {}), ...imageOutput(draft.model) };
  const hasPdf = draft.messages.some((m) => typeof m.content !== "string" && m.content.some((p) => p.type === "file"));
  if (!hasPdf) return { ...draft, params };
  const chosen = draft.settings?.pdfEngine ?? "text";
  // Chosen with another model: the chat's model now may not read files itself (the settings
  // refuse "native" for such a model, but the model can change after). Extraction stands in.
  const unread = chosen === "native" && draft.model?.inputModalities?.includes("file") === false;
  if (!unread) return { ...draft, params: { ...params, pdfEngine: chosen } };
  const notice = `${draft.model?.name ?? "This model"} cannot read PDFs itself: text extraction read them for this answer.`;
  return { ...draft, params: { ...params, pdfEngine: "text" }, notices: [...draft.notices, notice] };
};

/**
 * Each earlier answer's parse annotations on it, as OpenRouter asks for them back, so the PDFs
 * they read are not parsed (nor paid for) again. Only for a request that still carries PDFs, and
 * only parses made by the engine it asks for: a chat switched to OCR because text extraction read
 * nothing must get OCR, not the old extraction. After the fit, which leaves them out of its count
 * (they stand in for the PDFs' text, which the PDFs' own estimate already counts).
 */
export const withParses: Step = (draft) => {
  const engine = draft.params.pdfEngine;
  if (!engine || !draft.parses.size) return draft;
  const messages = draft.messages.map((turn) => {
    const parsed = turn.role === "assistant" && turn.messageId ? draft.parses.get(turn.messageId) : undefined;
    return parsed?.engine === engine ? { ...turn, annotations: parsed.files } : turn;
  });
  return { ...draft, messages };
};

/** OpenRouter's web search, when the chat has Search the web on. */
export const withWebSearch: Step = (draft) =>
  draft.webSearch ? { ...draft, params: { ...draft.params, webSearch: draft.webSearch } } : draft;

export const STEPS: readonly Step[] = [
  branchHistory,
  withAttachments,
  withInstructions,
  withProjectInstructions,
  withProjectFiles,
  fitImages,
  fitToModel,
  withParams,
  withParses,
  withWebSearch,
];

/** Runs the steps over a draft, in order. */
export function compose(draft: Draft, steps: readonly Step[] = STEPS): Draft {
  return steps.reduce((d, step) => step(d), draft);
}

/**
 * What a save step hands on: the empty answer it stored and the branch it follows; the chat's
 * web search switch as it left it and whether its message brought files (the settings, read
 * meanwhile, may not know yet); whether its read found no spending limit (see spendFor).
 */
export type Saved = { answer: Message; history: Turn[]; webSearch?: boolean; withFiles?: boolean; unlimited?: boolean };

type Spent = { usageId?: string; recorded?: () => Promise<void>; refused?: string };

export function createSendPipeline(core: ChatCore, generations: Generations, limits: SendLimits, tools: ToolRunner) {
  // What the requests of the sends of a moment need, read in one statement each (db/per-tick.ts).
  const settingsNow = perTick((chatIds: string[]) => chatsSettings(core.db, chatIds));
  const filesNow = perTick(async (asked: string[][]) => {
    const all = await attachedFiles(core.db, asked.flat());
    return asked.map((ids) => new Map(ids.filter((id) => all.has(id)).map((id) => [id, all.get(id)!])));
  });

  /** The request for a saved answer, composed and started upstream; `read`: the settings read meanwhile (see run). */
  async function start(
    userId: string,
    { answer, history, webSearch, withFiles, unlimited }: Saved,
    read: Promise<SettingsForAnswer | undefined>,
  ): Promise<string[]> {
    const asked = history.filter((m) => m.role === "user").map((m) => m.id);
    const answered = history.filter((m) => m.role === "assistant" && m.id < answer.id).map((m) => m.id);
    const [model, settings] = await Promise.all([core.models.find(answer.model!), read]);
    const row = settings && webSearch !== undefined ? { ...settings, webSearch } : settings;
    const files = row?.hasFiles || withFiles ? await filesNow(asked) : new Map<string, AttachedFile[]>();
    // Read only for a chat in a project; the person's own files of their own project alone.
    const projectFiles = row?.projectId ? await projectFilesFor(core.db, userId, row.projectId) : [];
    // Parses are looked up only for a request holding a PDF: the rest of the sends cost no query more.
    const hasPdf = [...files.values(), projectFiles].some((list) => list.some((f) => f.type === "application/pdf"));
    const parses = hasPdf ? await annotationsOf(core.db, answered) : new Map();
    const draft = compose({
      answer,
      history,
      model,
      settings: row && settingsOf(row),
      projectInstructions: row?.projectInstructions ?? null,
      files,
      projectFiles,
      parses,
      messages: [],
      params: {},
      webSearch: row?.webSearch
        ? {
            engine: core.config.webSearchEngine,
            maxResults: core.config.webSearchResults,
            // The server tool needs a model that calls tools; the plugin serves every other.
            asTool: model?.supportedParameters?.includes("tools") ?? false,
          }
        : undefined,
      notices: [],
    });
    // The chat's MCP tools, for a model that calls tools: after the steps, as the fit does not count them.
    const offered = row?.hasTools
      ? await tools.offer(answer.chatId, answer.id, model?.supportedParameters?.includes("tools") ?? false)
      : { definitions: [], unused: false };
    if (offered.definitions.length)
      draft.params = { ...draft.params, tools: offered.definitions, maxToolCalls: core.config.toolCallsPerAnswer };
    const unusedTools = `${model?.name ?? "This model"} cannot call tools: this answer is written without the chat's tools.`;
    if (offered.unused) draft.notices.push(unusedTools);
    const spend = await spendFor(userId, draft, unlimited);
    // Said beside the composer too, where a refused send is told.
    if (spend.refused) core.broadcast.status(answer.chatId, spend.refused, "error");
    generations.start({
      ...spend,
      userId,
      chatId: answer.chatId,
      messageId: answer.id,
      // The chat's first answer to finish (one stopped or failed before it leaves no title).
      first: !history.some((m) => m.id < answer.id && m.role === "assistant" && m.status === "complete"),
      // An answer is always stored with the model it is written by.
      model: answer.model!,
      messages: draft.messages.map(({ messageId: _, pinned: __, ...turn }) => turn),
      params: draft.params,
    });
    return draft.notices;
  }

  /**
   * The request's usage reserved against the person's spending limits, or why it may not go;
   * only recorded, while the request goes, when the save's read found no limit (`unlimited`).
   */
  async function spendFor(userId: string, draft: Draft, unlimited?: boolean): Promise<Spent> {
    const estimate =
      estimateCost(draft.model, draft.messages, draft.params.maxTokens) +
      (draft.webSearch ? draft.webSearch.maxResults * WEB_RESULT_PRICE : 0);
    const spend = { userId, kind: "answer" as const, model: draft.answer.model!, estimate, messageId: draft.answer.id };
    if (unlimited) return recordAlongside(core.db, spend);
    try {
      return { usageId: await reserve(core.db, spend, { limited: unlimited === false }) };
    } catch (err) {
      if (err instanceof SpendingRefused) return { refused: err.message };
      throw err;
    }
  }

  return {
    /**
     * One send, from the person's click to the answer streaming: `save` runs under the chat's
     * lock and calls `admit` once its own checks pass (the limits then count the send), stores
     * the message and an empty answer, and announces them; then the request is composed and
     * started. Answers what the person should be told about the request (see Draft.notices).
     */
    async run(userId: string, chatId: string, save: (admit: () => void) => Promise<Saved>): Promise<string[]> {
      let release: (() => void) | undefined;
      // Read while the save runs, not after it: one round trip less before the request goes.
      // Nothing in it is shown to anyone unless the save (which checks the chat is theirs) succeeds.
      const settings = settingsNow(chatId);
      settings.catch(() => {});
      try {
        const saved = await core.locks.run(chatId, () =>
          save(() => {
            release = limits.admit(userId);
          }),
        );
        return await start(userId, saved, settings);
      } finally {
        release?.();
      }
    },
  };
}

export type SendPipeline = ReturnType<typeof createSendPipeline>;
