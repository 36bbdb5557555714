/**
 * How long opening a chat takes as it grows: a short chat against one of 5,000 messages, on the
 * embedded database and on Postgres (when one answers). Prints a table and writes JSON to
 * bench/results/. Usage: bun bench/open-chat.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { renderMarkdown } from "../src/chat/markdown.ts";
import type { Database } from "../src/db/client.ts";
import { chats, messages } from "../src/db/schema.ts";
import { benchApp, onBothDrivers } from "./support.ts";

const SIZES = [10, 5000];
const RUNS = 30;

async function seed(database: Database, userId: string, count: number): Promise<string> {
  const [chat] = await database.db
    .insert(chats)
    .values({ userId, title: `${count} messages`, model: "m" })
    .returning();
  const body = "A paragraph of an answer with **some** Markdown and `code`.\n\n```js\nconst x = 1;\n```";
  const html = renderMarkdown(body);
  let parentId: string | null = null;
  for (let i = 0; i < count; i += 500) {
    const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => {
      const assistant = (i + j) % 2 === 1;
      const id = Bun.randomUUIDv7();
      const previous = parentId;
      parentId = id;
      return {
        id,
        parentId: previous,
        chatId: chat!.id,
        role: assistant ? ("assistant" as const) : ("user" as const),
        content: assistant ? body : `Question number ${i + j}?`,
        html: assistant ? html : null,
      };
    });
    await database.db.insert(messages).values(rows);
  }
  return chat!.id;
}

async function measure(label: string, database: Database) {
  const app = benchApp(database);
  const { base } = app;
  // Pages are for signed-in people: one account, one session, as a browser would hold it.
  const { user, cookie } = await app.person("bench", true);
  const headers = { cookie };
  const rows = [];
  for (const size of SIZES) {
    const id = await seed(database, user.id, size);
    const times: number[] = [];
    let bytes = 0;
    let wireBytes = 0;
    for (let i = 0; i < RUNS + 3; i++) {
      const start = performance.now();
      const res = await fetch(`${base}/chats/${id}`, { headers });
      if (res.status !== 200) throw new Error(`GET /chats/${id} answered ${res.status}`);
      bytes = (await res.arrayBuffer()).byteLength;
      if (i === 0) {
        const raw = await fetch(`${base}/chats/${id}`, {
          headers: { ...headers, "accept-encoding": "gzip" },
          decompress: false,
        } as RequestInit);
        wireBytes = (await raw.arrayBuffer()).byteLength;
      }
      if (i >= 3) times.push(performance.now() - start); // the first runs warm caches
    }
    times.sort((a, b) => a - b);
    rows.push({
      driver: label,
      messages: size,
      medianMs: times[Math.floor(times.length / 2)]!,
      p95Ms: times[Math.floor(times.length * 0.95)]!,
      kb: bytes / 1024,
      gzipKb: wireBytes / 1024,
    });
  }
  await app.stop();
  return rows;
}

const results = (await onBothDrivers(measure, { onDisk: process.argv.includes("--on-disk") })).flat();

console.log("Opening a chat (GET /chats/:id, full page with its newest 50 messages), 127.0.0.1:");
console.log("driver     messages   median ms   p95 ms   page KB   gzip'd KB");
for (const r of results) {
  console.log(
    `${r.driver.padEnd(10)} ${String(r.messages).padStart(8)} ${r.medianMs.toFixed(2).padStart(11)} ${r.p95Ms.toFixed(2).padStart(8)} ${r.kb.toFixed(1).padStart(9)} ${r.gzipKb.toFixed(1).padStart(11)}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/open-chat-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, results }, null, 2),
);
process.exit(0);
