/**
 * Import and export at size, on the embedded database and on Postgres (when one answers):
 * importing ChatGPT's conversations.json (`--conversations=N`, default 2,000, of 20 messages
 * each) and the largest Parley file Parley takes (200,000 messages); meanwhile, the longest the
 * event loop stalled (what streams would feel) and the slowest page another person loaded; then
 * exporting it all again. Usage: bun bench/transfer.ts [--conversations=N]
 */
import { mkdirSync, writeFileSync } from "node:fs";
import type { Database } from "../src/db/client.ts";
import { benchApp, onBothDrivers } from "./support.ts";

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const CONVERSATIONS = arg("conversations", 2000);

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

async function measure(label: string, database: Database) {
  const app = benchApp(database);
  const { base } = app;
  const rows: Record<string, string | number>[] = [];
  let n = 0;
  const person = async () => {
    const { user, cookie } = await app.person(`bench${n}`, n++ === 0);
    return { user, headers: { cookie, origin: base } };
  };

  const files: [string, string, number][] = [
    [`ChatGPT, ${CONVERSATIONS} × 20`, chatgptFile(CONVERSATIONS, 20), CONVERSATIONS * 20],
    ["Parley, 1,000 × 200 (the most)", parleyFile(1000, 200), 200_000],
  ];
  for (const [name, file, count] of files) {
    const { headers } = await person();
    const form = new FormData();
    form.append("file", new File([file], "file.json"));
    // Meanwhile: a timer every 10 ms (how late it fires is what a stream's frames would be), and
    // another person's page every 20 ms (on PGlite it waits for the import's transaction).
    const other = await person();
    let slowestPage = 0;
    let stall = 0;
    let importing = true;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last - 10);
      last = now;
    }, 10);
    const probe = (async () => {
      while (importing) {
        const start = performance.now();
        await (await fetch(`${base}/`, { headers: other.headers })).arrayBuffer();
        slowestPage = Math.max(slowestPage, performance.now() - start);
        await Bun.sleep(20);
      }
    })();
    const start = performance.now();
    const res = await fetch(`${base}/account/import`, { method: "POST", body: form, headers, redirect: "manual" });
    const importMs = performance.now() - start;
    importing = false;
    clearInterval(timer);
    await probe;
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
      stallMs: stall,
      slowestPageMs: slowestPage,
      exportS: exportMs / 1000,
      exportMb: exported.byteLength / 1024 / 1024,
    });
  }

  await app.stop();
  return rows;
}

const results = (await onBothDrivers(measure)).flat();

console.log("Import (POST /account/import) and export of it all (GET /account/export.json), 127.0.0.1:");
console.log(
  "driver     file                               MB   messages  import s  longest stall ms  slowest page ms  export s  export MB",
);
for (const r of results) {
  console.log(
    `${String(r.driver).padEnd(10)} ${String(r.file).padEnd(30)} ${Number(r.mb).toFixed(1).padStart(6)} ${String(r.messages).padStart(10)} ${Number(r.importS).toFixed(2).padStart(9)} ${Number(r.stallMs).toFixed(0).padStart(17)} ${Number(r.slowestPageMs).toFixed(0).padStart(16)} ${Number(r.exportS).toFixed(2).padStart(9)} ${Number(r.exportMb).toFixed(1).padStart(10)}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/transfer-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, results }, null, 2),
);
process.exit(0);
