import type { Model } from "../llm/openrouter.ts";

/** What the model picker offers a person: every model, and which of them they starred or used lately. */
export type ModelChoices = {
  models: Model[];
  /** Model ids the person starred, oldest star first. */
  favourites: string[];
  /** Model ids of the person's most recently active chats, newest first. */
  recent: string[];
  /** Whether the person's groups limit which models they may use (`models` holds only those). */
  restricted?: boolean;
};
