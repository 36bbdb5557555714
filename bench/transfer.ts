/**
 * Import and export at size, on the embedded database and on Postgres (when one answers):
 * importing ChatGPT's conversations.json (`--conversations=N`, default 2,000, of 20 messages
 * each), the largest Parley file Parley takes (200,000 messages) and a file of answers of hostile
 * Markdown (`--hostile=N` answers of ~480 KB, default 40: ~19 MB), each slow to render. Meanwhile
 * `--streams=N` answers (default 3) stream stamped tokens 20 ms apart to their tabs' WebSockets;
 * the table gives their frames' gaps and latency (arrival minus the stamp of the newest token),
 * `/healthz`'s latency, the longest the event loop stalled and the slowest page another person
 * loaded, for the second before the import and during it; then it exports it all again. The
 * embedded database keeps its files on disk, as Parley runs it.
 * Usage: bun bench/transfer.ts [--conversations=N] [--hostile=N] [--streams=N] [--files=chatgpt,parley,hostile]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { Database } from "../src/db/client.ts";
import { fakeEnv, startFakeUpstream } from "../test/fake-upstream.ts";
import { benchApp, onBothDrivers } from "./support.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const CONVERSATIONS = arg("conversations", 2000);
const HOSTILE = arg("hostile", 40);
const STREAMS = arg("streams", 3);
const FILES = (process.argv.find((a) => a.startsWith("--files="))?.split("=")[1] ?? "chatgpt,parley,hostile").split(
  ",",
);
const TOKEN_MS = 20;

/** An answer as models write them: a few paragraphs, a list, some code (about 1.5 KB). */
const ANSWER = [
  "Here is how I would approach it, step by step, with the trade-offs of each choice spelled out.",
  "",
  "1. **Measure first.** Find where the time goes before changing anything; guesses are usually wrong.",
  "2. **Change one thing.** Then measure again, on the same machine, with the same data.",
  "3. **Keep what helped.** Write down what did not, so nobody tries it again.",
  "",
  "```ts",
  "export function median(values: number[]): number {",
  "  const sorted = [...values].sort((a, b) => a - b);",
  "  return sorted[Math.floor(sorted.length / 2)]!;",
  "}",
  "```",
  "",
  "A last word on the numbers: a median hides the slow tail, so look at the 99th percentile too, and at",
  "the worst case when a person is waiting on it. The `p99` is often ten times the median.",
].join("\n");

function chatgptFile(conversations: number, perConversation: number): string {
  const t0 = 1_700_000_000;
  return JSON.stringify(
    Array.from({ length: conversations }, (_, c) => {
      const mapping: Record<string, unknown> = { root: { id: "root", message: null, parent: null, children: ["n0"] } };
      for (let i = 0; i < perConversation; i++) {
        const role = i % 2 ? "assistant" : "user";
        mapping[`n${i}`] = {
          id: `n${i}`,
          message: {
            id: `n${i}`,
            author: { role, name: null, metadata: {} },
            create_time: t0 + c * 1000 + i,
            content: {
              content_type: "text",
              parts: [role === "user" ? `Question ${i} of conversation ${c}?` : ANSWER],
            },
            status: "finished_successfully",
            metadata: role === "assistant" ? { model_slug: "gpt-4o" } : {},
            recipient: "all",
          },
          parent: i ? `n${i - 1}` : "root",
          children: i + 1 < perConversation ? [`n${i + 1}`] : [],
        };
      }
      return {
        title: `Conversation ${c}`,
        create_time: t0 + c * 1000,
        update_time: t0 + c * 1000 + perConversation,
        mapping,
        current_node: `n${perConversation - 1}`,
      };
    }),
  );
}

function parleyFile(chatsCount: number, perChat: number): string {
  const at = new Date().toISOString();
  return JSON.stringify({
    format: "parley-chats",
    version: 1,
    chats: Array.from({ length: chatsCount }, (_, c) => ({
      title: `Chat ${c}`,
      model: "m",
      createdAt: at,
      updatedAt: at,
      messages: Array.from({ length: perChat }, (_, i) =>
        i % 2 ? { role: "assistant", content: "A short answer." } : { role: "user", content: `Question ${i}?` },
      ),
    })),
  });
}

/**
 * Answers that take long to render (~1 s each here): runs of brackets, emphasis and bare links,
 * which Markdown renderers scan again and again, in one paragraph of ~480 KB.
 */
function hostileFile(answers: number): string {
  const piece = `${"[".repeat(2000)} ${"*a _b ".repeat(400)} ${"http://a.example/ www.b.example ".repeat(80)}\n`;
  const answer = piece.repeat(Math.floor(480_000 / piece.length));
  const at = new Date().toISOString();
  return JSON.stringify({
    format: "parley-chats",
    version: 1,
    chats: Array.from({ length: answers }, (_, c) => ({
      title: `Hostile ${c}`,
      model: "m",
      createdAt: at,
      updatedAt: at,
      messages: [
        { role: "user", content: "Render this." },
        { role: "assistant", content: answer },
      ],
    })),
  });
}

const quantile = (values: number[], q: number) => {
  if (!values.length) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const stampsIn = (text: string) => [...text.matchAll(/w(\d{16})/g)].map((m) => Number(m[1]) / 1000);
const wallMs = () => performance.timeOrigin + performance.now();

type Window = {
  frames: number;
  gapMaxMs: number;
  latencyMs: { p50: number; p99: number; max: number };
  healthzMs: { p50: number; p99: number; max: number; n: number };
  stallMs: number;
  slowestPageMs: number;
};

/**
 * While `during` runs: the streams' frames (their gaps and latency), /healthz asked again and
 * again, a timer every 10 ms (how late it fires is what a stream would feel) and another
 * person's page every 20 ms (on PGlite it waits for whatever holds the database).
 */
async function observe<T>(
  base: string,
  sockets: { arrivals: { at: number; stamp: number }[] }[],
  pageHeaders: Record<string, string>,
  during: () => Promise<T>,
): Promise<{ result: T; window: Window }> {
  const from = wallMs();
  let running = true;
  let stall = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last - 10);
    last = now;
  }, 10);
  const healthz: number[] = [];
  let slowestPage = 0;
  const probes = [
    (async () => {
      while (running) {
        const start = performance.now();
        await (await fetch(`${base}/healthz`)).arrayBuffer();
        healthz.push(performance.now() - start);
        await Bun.sleep(5);
      }
    })(),
    (async () => {
      while (running) {
        const start = performance.now();
        await (await fetch(`${base}/`, { headers: pageHeaders })).arrayBuffer();
        slowestPage = Math.max(slowestPage, performance.now() - start);
        await Bun.sleep(20);
      }
    })(),
  ];
  const result = await during();
  const to = wallMs();
  running = false;
  clearInterval(timer);
  await Promise.all(probes);
  let gapMax = 0;
  const latencies: number[] = [];
  for (const s of sockets) {
    const arrivals = s.arrivals;
    for (let i = 0; i < arrivals.length; i++) {
      const a = arrivals[i]!;
      if (a.at < from || a.at > to) continue;
      latencies.push(a.at - a.stamp);
      gapMax = Math.max(gapMax, a.at - (i ? arrivals[i - 1]!.at : from));
    }
    // A stream silent until the window's end: the gap up to it counts too.
    const lastIn = arrivals.filter((a) => a.at <= to).at(-1)?.at ?? from;
    gapMax = Math.max(gapMax, to - Math.max(lastIn, from));
  }
  return {
    result,
    window: {
      frames: latencies.length,
      gapMaxMs: gapMax,
      latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), max: Math.max(0, ...latencies) },
      healthzMs: {
        p50: quantile(healthz, 0.5),
        p99: quantile(healthz, 0.99),
        max: Math.max(0, ...healthz),
        n: healthz.length,
      },
      stallMs: stall,
      slowestPageMs: slowestPage,
    },
  };
}

const fake = startFakeUpstream();

async function measure(label: string, database: Database) {
  const app = benchApp(database, fakeEnv(fake));
  const { base } = app;
  const rows: Record<string, unknown>[] = [];
  let n = 0;
  const person = async () => {
    const { user, cookie } = await app.person(`bench${n}`, n++ === 0);
    return { user, cookie, headers: { cookie, origin: base } };
  };

  const files: [string, () => string, number][] = [];
  if (FILES.includes("chatgpt")) {
    files.push([`ChatGPT, ${CONVERSATIONS} × 20`, () => chatgptFile(CONVERSATIONS, 20), CONVERSATIONS * 20]);
  }
  if (FILES.includes("parley")) files.push(["Parley, 1,000 × 200 (the most)", () => parleyFile(1000, 200), 200_000]);
  if (FILES.includes("hostile"))
    files.push([`Hostile Markdown, ${HOSTILE} answers`, () => hostileFile(HOSTILE), HOSTILE * 2]);
  for (const [name, make, count] of files) {
    const file = make();
    const { headers } = await person();
    const other = await person();
    // Answers streaming to their tabs, each its own person's (answers at once are limited per person).
    const streams = await Promise.all(
      Array.from({ length: STREAMS }, async () => {
        const who = await person();
        fake.queue({ stampedTokens: 1_000_000, tokenDelayMs: TOKEN_MS });
        const made = await fetch(`${base}/chats`, {
          method: "POST",
          headers: who.headers,
          body: new URLSearchParams({ content: "Stream while the import runs", model: "fake/fast" }),
          redirect: "manual",
        });
        const chatId = made.headers.get("location")!.split("/").pop()!;
        const ws = new WebSocket(`${base.replace("http", "ws")}/ws?chat=${chatId}`, {
          headers: { cookie: who.cookie, origin: base },
        } as never);
        const arrivals: { at: number; stamp: number }[] = [];
        ws.addEventListener("message", (event) => {
          const stamps = stampsIn(String(event.data));
          if (stamps.length) arrivals.push({ at: wallMs(), stamp: Math.max(...stamps) });
        });
        await new Promise((resolve) => ws.addEventListener("open", resolve, { once: true }));
        return { who, chatId, ws, arrivals };
      }),
    );
    await Bun.sleep(1000); // the streams under way
    const idle = await observe(base, streams, other.headers, () => Bun.sleep(1000));
    const form = new FormData();
    form.append("file", new File([file], "file.json"));
    const start = performance.now();
    const during = await observe(base, streams, other.headers, () =>
      fetch(`${base}/account/import`, { method: "POST", body: form, headers, redirect: "manual" }),
    );
    const importMs = performance.now() - start;
    const res = during.result;
    for (const s of streams) {
      s.ws.close();
      await fetch(`${base}/chats/${s.chatId}`, { method: "DELETE", headers: s.who.headers }); // stops its answer
    }
    if (res.status !== 303) throw new Error(`import answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const exportStart = performance.now();
    const exported = await (await fetch(`${base}/account/export.json`, { headers })).arrayBuffer();
    const exportMs = performance.now() - exportStart;
    rows.push({
      driver: label,
      file: name,
      mb: file.length / 1024 / 1024,
      messages: count,
      importS: importMs / 1000,
      exportS: exportMs / 1000,
      exportMb: exported.byteLength / 1024 / 1024,
      idle: idle.window,
      importing: during.window,
    });
  }

  await app.stop();
  return rows;
}

const results = (await onBothDrivers(measure, { onDisk: true })).flat() as {
  driver: string;
  file: string;
  mb: number;
  messages: number;
  importS: number;
  exportS: number;
  exportMb: number;
  idle: Window;
  importing: Window;
}[];
await fake.stop();

const num = (v: number, width: number, digits = 0) => (Number.isFinite(v) ? v.toFixed(digits) : "-").padStart(width);
console.log("Import (POST /account/import) and export of it all (GET /account/export.json), 127.0.0.1:");
console.log("driver     file                              MB   messages  import s  export s  export MB");
for (const r of results) {
  console.log(
    `${r.driver.padEnd(10)} ${r.file.padEnd(30)} ${num(r.mb, 6, 1)} ${num(r.messages, 10)} ${num(r.importS, 9, 2)} ${num(r.exportS, 9, 2)} ${num(r.exportMb, 10, 1)}`,
  );
}
console.log(
  `\nMeanwhile, ${STREAMS} answers streaming (a token every ${TOKEN_MS} ms), the second before the import and during it (ms):`,
);
console.log(
  "driver     file                           window      frames  gap max  latency p50/p99/max   healthz p50/p99/max (n)   loop stall  slowest page",
);
for (const r of results) {
  for (const [window, w] of [
    ["before", r.idle],
    ["importing", r.importing],
  ] as const) {
    console.log(
      `${r.driver.padEnd(10)} ${r.file.padEnd(30)} ${window.padEnd(10)} ${num(w.frames, 7)} ${num(w.gapMaxMs, 8)} ${`${num(w.latencyMs.p50, 5)}/${num(w.latencyMs.p99, 5)}/${num(w.latencyMs.max, 5)}`.padStart(20)} ${`${num(w.healthzMs.p50, 5, 1)}/${num(w.healthzMs.p99, 5)}/${num(w.healthzMs.max, 5)} (${w.healthzMs.n})`.padStart(25)} ${num(w.stallMs, 11)} ${num(w.slowestPageMs, 13)}`,
    );
  }
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/transfer-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, results }, null, 2),
);
process.exit(0);
