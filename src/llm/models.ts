import type { Logger } from "../log.ts";
import type { Model, Upstream } from "./openrouter.ts";

const TTL_MS = 60 * 60 * 1000;
const RETRY_MS = 60 * 1000;
/** How long a page waits for the very first list before it is shown with the default model alone. */
const FIRST_WAIT_MS = 1500;

/**
 * What Parley knows about the upstream's models: the one place `/models` is fetched. The picker,
 * settings, presets and the send pipeline (context fitting) ask it; each model carries its
 * context length, prices, supported parameters and input/output modalities.
 *
 * Cached for an hour. A stale list is served while a fresh one is fetched; in an outage the last
 * good list (or the default model alone) is kept and the upstream asked again a minute later, so
 * no page waits on a dead upstream twice.
 */
export class ModelCatalog {
  #cache: { until: number; models: Model[] } | undefined;
  #fetching: Promise<Model[]> | undefined;

  constructor(
    private readonly upstream: Pick<Upstream, "models">,
    private readonly defaultModel: string,
    private readonly log: Logger,
  ) {}

  /** Every model the upstream lists (the default model alone until a list has been fetched). */
  async list(): Promise<Model[]> {
    const cache = this.#cache;
    if (cache && Date.now() < cache.until) return cache.models;
    this.#fetching ??= this.#fetch();
    if (cache) return cache.models;
    return Promise.race([this.#fetching, Bun.sleep(FIRST_WAIT_MS).then(() => this.#fallback())]);
  }

  /** A model by id; undefined when the upstream does not list it (or no list could be fetched). */
  async find(id: string): Promise<Model | undefined> {
    return (await this.list()).find((m) => m.id === id);
  }

  #fallback(): Model[] {
    return [{ id: this.defaultModel, name: this.defaultModel, contextLength: null }];
  }

  #fetch(): Promise<Model[]> {
    return this.upstream
      .models()
      .then((models) => {
        this.#cache = { until: Date.now() + TTL_MS, models: models.length ? models : this.#fallback() };
        return this.#cache.models;
      })
      .catch((err) => {
        this.log.warn("could not fetch the model list", { error: err });
        this.#cache = { until: Date.now() + RETRY_MS, models: this.#cache?.models ?? this.#fallback() };
        return this.#cache.models;
      })
      .finally(() => {
        this.#fetching = undefined;
      });
  }
}
