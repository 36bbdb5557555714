import { listPresets } from "../presets/repo.ts";
import { getOwnProject } from "../projects/repo.ts";
import { modelRefusal } from "../teams/access.ts";
import type { ChatCore } from "./core.ts";
import { ChatError } from "./errors.ts";
import { plainText } from "./plain-text.ts";
import { getOwnChat, updateChat, updateChatSettings } from "./repos/chats.ts";
import { parseSettings } from "./settings.ts";

/** A chat's model, system prompt and parameters, and the presets a new chat starts from. */
export function createChatSettings(core: ChatCore) {
  const { db, broadcast, models } = core;

  /** A person's chat with what its settings form needs: the chat's model as the upstream lists it. */
  async function settings(userId: string, chatId: unknown) {
    const chat = await getOwnChat(db, userId, chatId);
    if (!chat) return undefined;
    return { chat, model: await models.find(chat.model) };
  }

  return {
    settings,

    async setModel(userId: string, chatId: string, rawModel: unknown) {
      const model = typeof rawModel === "string" ? plainText(rawModel).trim().slice(0, 200) : "";
      if (!model) throw new ChatError("Choose a model.");
      const refusal = await modelRefusal(db, userId, model);
      if (refusal) throw new ChatError(refusal);
      return updateChat(db, userId, chatId, { model });
    },

    /**
     * Saves a chat's system prompt and parameters from its settings form, checked against its
     * model; a bad value throws a SettingsError and saves nothing. Undefined when not their chat.
     */
    async saveSettings(userId: string, chatId: unknown, form: Record<string, unknown>) {
      const found = await settings(userId, chatId);
      if (!found) return undefined;
      const parsed = parseSettings(form, found.chat.model, found.model, found.chat);
      const chat = await updateChatSettings(db, userId, found.chat.id, parsed);
      if (chat) broadcast.settingsChanged(chat);
      return chat && { chat, model: found.model };
    },

    /**
     * The new-chat page's presets, the one it starts from and the project it starts in
     * (`missing` says which of those is not the person's).
     */
    async newChat(userId: string, presetId: unknown, projectId?: unknown) {
      const [presets, project] = await Promise.all([
        listPresets(db, userId),
        projectId ? getOwnProject(db, userId, projectId) : undefined,
      ]);
      const preset = presetId ? presets.find((p) => p.id === presetId) : undefined;
      const missing = presetId && !preset ? "preset" : projectId && !project ? "project" : undefined;
      return { presets, preset, project, missing };
    },
  };
}
