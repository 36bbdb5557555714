import type { ChatService } from "../chat/service.ts";
import { parseSettings, SettingsError, settingsOf } from "../chat/settings.ts";
import type { Database } from "../db/client.ts";
import type { Preset } from "../db/schema.ts";
import { modelRefusal } from "../teams/access.ts";
import * as repo from "./repo.ts";

export const MAX_PRESET_NAME_LENGTH = 100;
const MAX_MODEL_LENGTH = 200;

/** One line of plain text, as a name or a model id is typed. */
const oneLine = (raw: unknown) => (typeof raw === "string" ? raw.replaceAll("\0", "").replace(/\s+/g, " ").trim() : "");

function presetName(raw: unknown): string {
  const name = oneLine(raw);
  if (!name) throw new SettingsError("Give the preset a name.");
  if (name.length > MAX_PRESET_NAME_LENGTH) {
    throw new SettingsError(`A preset's name can be at most ${MAX_PRESET_NAME_LENGTH} characters long.`);
  }
  return name;
}

const taken = (name: string) =>
  new SettingsError(`You already have a preset named “${name}”: choose another name, or edit that one.`);

/** A person's saved presets: a model, a system prompt and parameters under a name. */
export function createPresetService({ database, chat }: { database: Database; chat: ChatService }) {
  const { db } = database;

  /** A preset's values from its form, checked against the model chosen; throws a SettingsError. */
  /** A preset's model must be one the person's groups allow (see teams/access.ts). */
  async function refuseForbidden(userId: string, model: string): Promise<void> {
    const refusal = await modelRefusal(db, userId, model);
    if (refusal) throw new SettingsError(refusal);
  }

  async function fromForm(userId: string, form: Record<string, unknown>, current?: Preset): Promise<repo.PresetValues> {
    const name = presetName(form.name);
    const model = oneLine(form.model).slice(0, MAX_MODEL_LENGTH);
    if (!model) throw new SettingsError("Choose a model for the preset.");
    await refuseForbidden(userId, model);
    const known = (await chat.models()).find((m) => m.id === model);
    return { name, model, ...parseSettings(form, model, known, current && settingsOf(current)) };
  }

  async function saved(result: Preset | "taken" | undefined, name: string) {
    if (result === "taken") throw taken(name);
    return result;
  }

  return {
    list: (userId: string) => repo.listPresets(db, userId),

    get: (userId: string, id: unknown) => repo.getOwnPreset(db, userId, id),

    /** A new preset from the presets page's form; a bad value throws a SettingsError and saves nothing. */
    async create(userId: string, form: Record<string, unknown>): Promise<Preset> {
      const values = await fromForm(userId, form);
      return (await saved(await repo.insertPreset(db, userId, values), values.name))!;
    },

    /** Changes a preset; undefined when it is not the person's. */
    async update(userId: string, id: unknown, form: Record<string, unknown>): Promise<Preset | undefined> {
      const current = await repo.getOwnPreset(db, userId, id);
      if (!current) return undefined;
      const values = await fromForm(userId, form, current);
      return saved(await repo.updatePreset(db, userId, current.id, values), values.name);
    },

    remove: (userId: string, id: unknown) => repo.deletePreset(db, userId, id),

    /** A preset of a chat's model, prompt and parameters as they are now; undefined when not their chat. */
    async fromChat(userId: string, chatId: unknown, rawName: unknown): Promise<Preset | undefined> {
      const found = await chat.getChat(userId, chatId);
      if (!found) return undefined;
      const name = presetName(rawName);
      await refuseForbidden(userId, found.model);
      const values = { name, model: found.model, ...settingsOf(found) };
      return saved(await repo.insertPreset(db, userId, values), name);
    },
  };
}

export type PresetService = ReturnType<typeof createPresetService>;
