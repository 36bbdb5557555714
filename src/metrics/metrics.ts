import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { DbLoad } from "../db/client.ts";

/** Settled cost and tokens per model, summed from the usage table (see usage/repo.ts). */
export type ModelUsage = { model: string; cost: number; promptTokens: number; completionTokens: number };

/**
 * Scrapes within this long of the last read reuse its sums: Prometheus scrapes every 15 s or more,
 * and the sums read the whole usage table.
 */
const USAGE_CACHE_MS = 10_000;
/**
 * How long a scrape waits for the usage sums before answering with the last ones: /metrics must
 * answer when the database is slow or locked (it is how one finds out).
 */
const USAGE_WAIT_MS = 250;

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "parley_" });
  const idle: DbLoad = { connections: 0, inFlight: 0, takePeak: () => 0 };
  const sources = {
    sockets: () => 0,
    generations: () => 0,
    db: idle,
    usage: async (): Promise<ModelUsage[]> => [],
  };
  // One read serves both usage counters of a scrape, and any scrape within USAGE_CACHE_MS. A read
  // that takes longer than USAGE_WAIT_MS goes on; the scrape answers with the sums before it.
  let usageLast: ModelUsage[] | undefined;
  let usageRead: { at: number; done: Promise<void> } | undefined;
  const usageRows = async (): Promise<ModelUsage[] | undefined> => {
    const now = Date.now();
    if (!usageRead || now - usageRead.at > USAGE_CACHE_MS) {
      const read = {
        at: now,
        done: sources.usage().then(
          (rows) => {
            usageLast = rows;
          },
          () => {
            if (usageRead === read) usageRead = undefined;
          },
        ),
      };
      usageRead = read;
    }
    await Promise.race([usageRead.done, Bun.sleep(USAGE_WAIT_MS)]);
    return usageLast;
  };

  const metrics = {
    registry,
    /** Gauges read at scrape time from the parts that own the numbers. */
    watch(from: Partial<typeof sources>) {
      Object.assign(sources, from);
    },
    openSockets: new Gauge({
      name: "parley_open_sockets",
      help: "WebSockets open (one per tab).",
      registers: [registry],
      collect() {
        this.set(sources.sockets());
      },
    }),
    generationsInFlight: new Gauge({
      name: "parley_generations_in_flight",
      help: "Answers being written right now.",
      registers: [registry],
      collect() {
        this.set(sources.generations());
      },
    }),
    dbConnections: new Gauge({
      name: "parley_db_pool_connections",
      help: "Connections the database pool may open (the embedded database: 1).",
      registers: [registry],
      collect() {
        this.set(sources.db.connections);
      },
    }),
    dbInFlight: new Gauge({
      name: "parley_db_queries_in_flight",
      help: "Database statements and transactions running or waiting for a connection right now.",
      registers: [registry],
      collect() {
        this.set(sources.db.inFlight);
      },
    }),
    dbPeak: new Gauge({
      name: "parley_db_queries_in_flight_peak",
      help: "The most database statements and transactions in flight at once since the previous scrape; above the pool's connections, some waited.",
      registers: [registry],
      collect() {
        this.set(sources.db.takePeak());
      },
    }),
    /*
     * Per model, never per person. Read from the database at scrape time: the usage rows are the
     * record, so the counters survive restarts and agree across instances. Only settled rows
     * count (their cost and tokens are final), so the counters never go down.
     */
    usageCost: new Counter({
      name: "parley_usage_cost_dollars_total",
      help: "US dollars spent upstream, as OpenRouter reported them (settled requests), by model.",
      labelNames: ["model"] as const,
      registers: [registry],
      async collect() {
        // Nothing read yet (the database slow or away): the counters stay as they were.
        const rows = await usageRows();
        if (!rows) return;
        this.reset();
        for (const r of rows) this.inc({ model: r.model }, r.cost);
      },
    }),
    usageTokens: new Counter({
      name: "parley_usage_tokens_total",
      help: "Tokens of settled requests, by model and direction (prompt or completion).",
      labelNames: ["model", "direction"] as const,
      registers: [registry],
      async collect() {
        // Nothing read yet (the database slow or away): the counters stay as they were.
        const rows = await usageRows();
        if (!rows) return;
        this.reset();
        for (const r of rows) {
          this.inc({ model: r.model, direction: "prompt" }, r.promptTokens);
          this.inc({ model: r.model, direction: "completion" }, r.completionTokens);
        }
      },
    }),
    tokensRelayed: new Counter({
      name: "parley_tokens_relayed_total",
      help: "Pieces of answer (and reasoning) received from the upstream and passed on.",
      registers: [registry],
    }),
    upstreamErrors: new Counter({
      name: "parley_upstream_errors_total",
      help: "Answers the upstream failed, by HTTP status or kind (network, stall, midstream, dropped, no_key).",
      labelNames: ["status"] as const,
      registers: [registry],
    }),
    upstreamFirstToken: new Histogram({
      name: "parley_upstream_first_token_seconds",
      help: "From sending a request upstream to its first piece of answer.",
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "parley_http_request_duration_seconds",
      help: "HTTP requests by method, route pattern and status.",
      labelNames: ["method", "route", "status"] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
