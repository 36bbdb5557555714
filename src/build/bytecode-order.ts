/**
 * `npm run build:order`: records which of the app's functions a binary runs, for `bun build
 * --bytecode-order` (package.json's build), which then lays their bytecode out together at the
 * front of the binary's embedded files. A server reads only those pages of the binary: 5 MB less
 * memory idle (docs/footprint.md). Like a profile for profile-guided optimisation, the file is
 * kept in the repository and made again now and then; a function changed since is only laid out
 * as if it were never run.
 *
 * Usage: bun src/build/bytecode-order.ts <binary> <order file>. The run is what the footprint
 * benchmark measures: a later start of the embedded database, the first account, pages opened
 * and one answer streamed (from a local stand-in for OpenRouter that writes Markdown with code).
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort, waitReady } from "../../bench/streams.ts";
import { postForm } from "../../test/support/http.ts";

const [binary, orderFile] = process.argv.slice(2);
if (!binary || !orderFile) {
  console.error("usage: bun src/build/bytecode-order.ts <binary> <order file>");
  process.exit(2);
}

const ANSWER = [
  "Here is **one way** to do it:\n\n",
  "1. Read the file.\n2. Count the words.\n\n",
  "```ts\n",
  "const text = await Bun.file(path).text();\n",
  "const words = text.split(/\\s+/).filter(Boolean);\n",
  "console.log(words.length);\n",
  "```\n\n",
  "| words | time |\n| --- | --- |\n| 1,000 | 2 ms |\n\n",
  "That is *all*; see [the docs](https://bun.sh/docs) for `Bun.file`.",
];

/** Answers every chat completion with ANSWER in pieces, as OpenRouter streams (SSE, usage, [DONE]). */
const upstream = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  fetch(req) {
    if (new URL(req.url).pathname.endsWith("/models")) return Response.json({ data: [] });
    const chunk = (delta: object, extra: object = {}) =>
      `data: ${JSON.stringify({ id: "gen-order", object: "chat.completion.chunk", model: "order/model", choices: [{ index: 0, delta, finish_reason: null }], ...extra })}\n\n`;
    const body = new ReadableStream({
      async start(controller) {
        const write = (s: string) => controller.enqueue(new TextEncoder().encode(s));
        write(": OPENROUTER PROCESSING\n\n");
        for (const piece of ANSWER) {
          for (const word of piece.match(/\S*\s*/g) ?? []) {
            if (word) write(chunk({ role: "assistant", content: word }));
            await Bun.sleep(2);
          }
        }
        write(chunk({}, { usage: { prompt_tokens: 12, completion_tokens: 90, total_tokens: 102 } }));
        write("data: [DONE]\n\n");
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  },
});

const work = mkdtempSync(join(tmpdir(), "parley-order-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;

async function serve(record: string | undefined): Promise<Bun.Subprocess> {
  const proc = Bun.spawn([resolve(binary!), "serve"], {
    env: {
      PATH: process.env.PATH ?? "",
      PORT: String(port),
      DATA_DIR: join(work, "data"),
      LOG_LEVEL: "error",
      OPENROUTER_BASE_URL: `http://127.0.0.1:${upstream.port}/api/v1`,
      OPENROUTER_API_KEY: "sk-order",
      DEFAULT_MODEL: "order/model",
      ...(record ? { BUN_BYTECODE_ORDER_OUT: record } : {}),
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  await waitReady(`${base}/readyz`, proc);
  return proc;
}

const form = (path: string, fields: Record<string, string>, cookie = "") => postForm(base, path, fields, cookie);

/** A tab on the chat: its page, then its socket until the answer is shown whole. */
async function tab(cookie: string, chat: string, untilWhole: boolean): Promise<void> {
  await (await fetch(`${base}/chats/${chat}`, { headers: { cookie } })).text();
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws?chat=${chat}`, {
    headers: { Origin: base, cookie },
  } as never);
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error("the answer did not end in 30 s")), 30_000);
    ws.onmessage = (event) => {
      const html = String(event.data);
      if (!untilWhole || (html.includes("all</em>") && !html.includes('data-status="streaming"'))) {
        clearTimeout(timer);
        done();
      }
    };
    ws.onerror = () => fail(new Error("the socket failed"));
  });
  ws.close();
}

try {
  // A first start makes the data directory; the recorded run is a later start, the usual one.
  const first = await serve(undefined);
  first.kill("SIGTERM");
  await first.exited;
  const recording = join(work, "order.txt");
  const proc = await serve(recording);
  await (await fetch(`${base}/`)).text();
  const account = { username: "order", password: "correct horse battery staple" };
  await form("/setup", account);
  const cookie = (await form("/signin", account)).headers.get("set-cookie")?.split(";")[0] ?? "";
  const sent = await form("/chats", { content: "How do I count the words in a file?" }, cookie);
  const chat = /\/chats\/([0-9a-f-]+)$/.exec(sent.headers.get("location") ?? "")?.[1];
  if (!cookie || !chat) throw new Error(`could not sign in and send (send answered ${sent.status})`);
  await tab(cookie, chat, true);
  for (let i = 0; i < 5; i++) await tab(cookie, chat, false);
  for (const path of ["/", "/search?q=words", "/account", "/projects"])
    await (await fetch(base + path, { headers: { cookie } })).text();
  proc.kill("SIGTERM");
  await proc.exited;
  if (!statSync(recording, { throwIfNoEntry: false })?.size) throw new Error(`${binary} wrote no order file`);
  copyFileSync(recording, orderFile);
  console.log(`wrote ${orderFile} (${statSync(orderFile).size} bytes)`);
} finally {
  upstream.stop(true);
  rmSync(work, { recursive: true, force: true });
}
