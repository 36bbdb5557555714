import type { Database } from "../db/client.ts";
import type { Model } from "../llm/openrouter.ts";
import { allowedModels } from "../teams/access.ts";
import * as repo from "./repo.ts";
import type { ModelChoices } from "./types.ts";

/** How many recently used models the picker offers before the rest. */
const RECENT = 5;

/** The model picker's lists: the catalog's models, and the person's starred and recent ones. */
export function createPickerService({ database, models }: { database: Database; models: () => Promise<Model[]> }) {
  const { db } = database;
  return {
    /** Only the models the person's groups allow (teams/access.ts); the server refuses the rest anyway. */
    async choices(userId: string): Promise<ModelChoices> {
      const [list, favourites, recent, allowed] = await Promise.all([
        models(),
        repo.favourites(db, userId),
        repo.recentModels(db, userId, RECENT),
        allowedModels(db, userId),
      ]);
      const shown = list.filter((m) => allowed(m.id));
      return {
        models: shown,
        restricted: shown.length < list.length,
        favourites: favourites.filter(allowed),
        recent: recent.filter(allowed),
      };
    },

    /** Stars a model the upstream lists (or takes its star away); false for a model it does not list. */
    async setFavourite(userId: string, model: unknown, on: boolean): Promise<boolean> {
      if (typeof model !== "string" || !(await models()).some((m) => m.id === model)) return false;
      await repo.setFavourite(db, userId, model, on);
      return true;
    },
  };
}

export type PickerService = ReturnType<typeof createPickerService>;
