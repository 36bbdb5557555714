/**
 * Do streams suffer while files come in? 200 answers stream at once (each one person's signed-in
 * WebSocket on their own chat; the fake upstream sends 200 tokens 20 ms apart, each stamped with
 * the time it was sent), first with nothing else going on ("quiet"), then while another person
 * uploads a 20 MB text file through POST /files over and over, and a third imports a Parley export
 * (format 2) with several MB of attachments through POST /account/import over and over ("files").
 * Each upload and each import carries bytes new to the server, so each is hashed, checked and
 * stored, never found stored already. The uploads and imports are sent by a child process, so
 * that making and sending their bodies does not hold the thread that times the frames.
 *
 *   bun bench/files-load.ts                 quiet, files, quiet, files (--rounds=N pairs, default 2)
 *   --streams=N (200)  --upload-mb=N (20)  --import-mb=N (8: the attachments' bytes, before base64)
 *   --driver=pglite    the embedded database on disk instead of the test Postgres
 *   --bin=PATH         another build of Parley; --source forces the sources
 *   --profile          the sources under Bun's sampling profiler: bench/results/files-load.cpuprofile (and .md)
 *
 * Uses dist/parley when it exists (else the sources). Prints a table and writes bench/results/.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { openDatabase } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { messages } from "../src/db/schema.ts";
import { startFakeUpstream } from "../test/fake-upstream.ts";
import { postForm } from "../test/support/http.ts";
import { createDatabase, findPostgres } from "../test/support/postgres.ts";
import {
  answerFrame,
  drive,
  freePort,
  isChatReady,
  parleyEnv,
  quantile,
  signedInPeople,
  waitReady,
} from "./streams.ts";

const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
const MB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The child: one person uploading, another importing, each one request after the other until told to stop.

type Sent = { ms: number; status: number };
type TrafficSettings = { base: string; uploader: string; importer: string; uploadMb: number; importMb: number };

/** `bytes` random lowercase words, spaces and line breaks: valid UTF-8, no NUL, so it is a text file. */
function randomText(bytes: number): Uint8Array<ArrayBuffer> {
  const out = randomBytes(bytes);
  for (let i = 0; i < out.length; i++) out[i] = i % 80 === 79 ? 10 : out[i]! % 7 === 0 ? 32 : 97 + (out[i]! % 26);
  return out;
}

/** Makes these bytes new: a counter written over their first 12 bytes (the same in UTF-8 and latin1). */
const stamp = <T extends Uint8Array>(bytes: T, n: number, at = 0): T => {
  bytes.set(new TextEncoder().encode(String(n).padStart(12, "0")), at);
  return bytes;
};

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const PNG_HEAD = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, ...Buffer.from("IHDR")];

/** A Parley export of one chat of 20 messages whose first carries a text file, a PNG and a PDF of `mb` MB in all. */
function exportWithFiles(mb: number, n: number, text: Uint8Array): string {
  const bytes = mb * MB;
  const txt = stamp(text.slice(0, Math.floor(bytes * 0.375)), n);
  const png = randomBytes(Math.floor(bytes * 0.375));
  png.set(PNG_HEAD);
  stamp(png, n, PNG_HEAD.length);
  const pdf = Buffer.concat([Buffer.from("%PDF-1.4\n"), randomBytes(bytes - txt.length - png.length - 16)]);
  stamp(pdf, n, 9);
  const file = (name: string, type: string, b: Uint8Array) => ({
    name,
    type,
    size: b.length,
    sha256: sha256(b),
    data: Buffer.from(b).toString("base64"),
  });
  const pdfBytes = Buffer.concat([pdf, Buffer.from("\n%%EOF\n")]);
  const attachments = [
    file(`notes-${n}.txt`, "text/plain", txt),
    file(`photo-${n}.png`, "image/png", png),
    file(`report-${n}.pdf`, "application/pdf", pdfBytes),
  ];
  const chat = Array.from({ length: 20 }, (_, i) =>
    i % 2
      ? { role: "assistant", content: `Answer ${i}: a paragraph with **bold** words and a list:\n\n- one\n- two\n` }
      : { role: "user", content: `Question ${i} about the files`, ...(i === 0 ? { attachments } : {}) },
  );
  return JSON.stringify({ format: "parley-chats", version: 2, chats: [{ title: `Imported ${n}`, messages: chat }] });
}

async function traffic(settings: TrafficSettings) {
  const { base } = settings;
  // Under the limit by what a multipart body adds, and new bytes on every upload (stamped below).
  const text = randomText(settings.uploadMb * MB - 4096);
  const uploads: Sent[] = [];
  const imports: Sent[] = [];
  let stopping = false;
  const stopped = Promise.withResolvers<void>();
  const go = Promise.withResolvers<void>();
  process.on("message", (m) => {
    if (m === "go") go.resolve();
    if (m === "stop") {
      stopping = true;
      stopped.resolve();
    }
  });
  const post = async (path: string, cookie: string, file: File, expected: number, into: Sent[]) => {
    const form = new FormData();
    form.append("file", file);
    const started = performance.now();
    const res = await fetch(base + path, {
      method: "POST",
      headers: { Origin: base, cookie },
      body: form,
      redirect: "manual",
    });
    await res.arrayBuffer();
    into.push({ ms: performance.now() - started, status: res.status });
    if (res.status !== expected) console.error(`${path} answered ${res.status}`);
  };
  let n = 0;
  // The next body is made while the one before is sent, so the server always has one to read.
  let nextImport = exportWithFiles(settings.importMb, n, text);
  process.send!("ready");
  await go.promise;
  await Promise.all([
    (async () => {
      while (!stopping) {
        const file = new File([stamp(text, ++n)], `server-${n}.log`, { type: "text/plain" });
        await post("/files", settings.uploader, file, 200, uploads);
      }
    })(),
    (async () => {
      while (!stopping) {
        const body = nextImport;
        const sending = post("/account/import", settings.importer, new File([body], "export.json"), 303, imports);
        nextImport = exportWithFiles(settings.importMb, ++n, text);
        await sending;
      }
    })(),
    stopped.promise,
  ]);
  process.send!({ uploads, imports });
}

if (process.env.FILES_LOAD_TRAFFIC) {
  await traffic(JSON.parse(process.env.FILES_LOAD_TRAFFIC));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

const STREAMS = Number(arg("streams") ?? 200);
const ROUNDS = Number(arg("rounds") ?? 2);
const UPLOAD_MB = Number(arg("upload-mb") ?? 20);
const IMPORT_MB = Number(arg("import-mb") ?? 8);
const DRIVER = arg("driver") ?? "postgres";
if (DRIVER !== "postgres" && DRIVER !== "pglite") throw new Error("--driver is postgres or pglite");
const TOKENS = 200;
const TOKEN_MS = 20;
const FIRST_MS = 100;
const ROOT = resolve(import.meta.dir, "..");
const PROFILE = process.argv.includes("--profile");
const binary = resolve(arg("bin") ?? join(ROOT, "dist", "parley"));
if (arg("bin") && !existsSync(binary)) throw new Error(`--bin: no file at ${binary}`);
const useBinary = existsSync(binary) && !process.argv.includes("--source") && !PROFILE;
const profiler = PROFILE
  ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${join(import.meta.dir, "results")}`, "--cpu-prof-name=files-load"]
  : [];
const command = useBinary ? [binary, "serve"] : [process.execPath, ...profiler, join(ROOT, "src/cli.ts"), "serve"];

type Run = {
  label: "quiet" | "files";
  streams: number;
  errors: number;
  frameLatencyMs: { median: number; p99: number; max: number };
  tokensPerSecond: number;
  serverCpuPercent: number;
  machineCpuPercent: number;
  /** Uploads and imports finished during the run (files runs): how many, how long each took, what they answered. */
  uploads?: { count: number; medianMs: number; maxMs: number; statuses: number[] };
  imports?: { count: number; medianMs: number; maxMs: number; statuses: number[] };
};

const fake = startFakeUpstream();
const pg = DRIVER === "postgres" ? await findPostgres() : undefined;
if (DRIVER === "postgres" && !pg)
  throw new Error("--driver=postgres needs Postgres (TEST_DATABASE_URL or 127.0.0.1:5432).");
const target = pg ? await createDatabase(pg.adminUrl) : undefined;
const dataDir = pg ? undefined : join(mkdtempSync(join(tmpdir(), "parley-bench-")), "data");
const openDb = () => openDatabase({ url: target?.url, dataDir: dataDir ?? "", poolSize: 2 });

// The database is made and its people added before Parley starts: the embedded one has one owner at a time.
let database = await openDb();
await migrate(database, target?.url);
const cookies = await signedInPeople(database, STREAMS + 2);
const [uploader, importer] = cookies.splice(STREAMS, 2) as [string, string];
if (dataDir) await database.close();

const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const server = Bun.spawn(command, {
  env: {
    ...parleyEnv(port, target ? { DATABASE_URL: target.url } : { DATA_DIR: dataDir! }, fake.url),
    MAX_FILE_MB: String(Math.max(20, UPLOAD_MB)),
    // Every upload is new bytes: the default 1 GB would be full after 50.
    STORAGE_PER_PERSON_MB: "1000000",
  },
  stdout: "inherit",
  stderr: "inherit",
});

const runs: Run[] = [];
/** Each answer's chat and what the upstream sent for it, checked against the database at the end. */
const expected: { chatId: string; sent?: string }[] = [];
let failed = false;
let lost = 0;
try {
  await waitReady(`${base}/readyz`, server);
  // Each stream gets a chat of its own, made by the new-chat form (a short first answer).
  fake.setDefault({ tokenSize: 64 });
  const chatIds: string[] = [];
  while (chatIds.length < STREAMS) {
    const made = await Promise.all(
      Array.from({ length: Math.min(50, STREAMS - chatIds.length) }, (_, i) =>
        postForm(base, "/chats", { content: `chat ${chatIds.length + i}` }, cookies[chatIds.length + i]),
      ),
    );
    for (const res of made) {
      const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")?.[1];
      if (!id) throw new Error(`POST /chats answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      chatIds.push(id);
    }
  }
  // The chats' first answers (a few tokens) end before the measured ones start: no page shows one streaming.
  for (let pending = chatIds.map((_, i) => i); pending.length; await Bun.sleep(200)) {
    const streaming = await Promise.all(
      pending.map(async (i) => {
        const page = await fetch(`${base}/chats/${chatIds[i]}`, { headers: { cookie: cookies[i]! } });
        return (await page.text()).includes('data-status="streaming"');
      }),
    );
    pending = pending.filter((_, k) => streaming[k]);
  }
  fake.setDefault({ stampedTokens: TOKENS, tokenDelayMs: TOKEN_MS, firstTokenDelayMs: FIRST_MS });

  const streamRun = async (label: Run["label"]): Promise<Run> => {
    const tag = `${label} ${Date.now()}`;
    let child: Bun.Subprocess | undefined;
    const report = Promise.withResolvers<{ uploads: Sent[]; imports: Sent[] }>();
    if (label === "files") {
      const ready = Promise.withResolvers<void>();
      const settings: TrafficSettings = { base, uploader, importer, uploadMb: UPLOAD_MB, importMb: IMPORT_MB };
      child = Bun.spawn([process.execPath, import.meta.path], {
        env: { PATH: process.env.PATH ?? "", FILES_LOAD_TRAFFIC: JSON.stringify(settings) },
        stdout: "inherit",
        stderr: "inherit",
        ipc(message) {
          if (message === "ready") ready.resolve();
          else report.resolve(message);
        },
      });
      await ready.promise;
      child.send("go");
      // The first upload's body is on its way when the answers start.
      await Bun.sleep(300);
    }
    const run = await drive({
      n: STREAMS,
      pids: [server.pid],
      limitMs: FIRST_MS + TOKENS * TOKEN_MS * 4 + 30_000,
      open: (i) =>
        new WebSocket(`ws://127.0.0.1:${port}/ws?chat=${chatIds[i]}`, {
          headers: { Origin: base, cookie: cookies[i] },
        } as never),
      ready: isChatReady,
      send: (ws, i) => ws.send(JSON.stringify({ action: "send", chat: chatIds[i], content: `${tag} ${i}` })),
      frame: answerFrame(tag),
    });
    let sent: { uploads: Sent[]; imports: Sent[] } | undefined;
    if (child) {
      child.send("stop");
      sent = await report.promise;
      await child.exited;
    }
    for (let i = 0; i < STREAMS; i++) {
      const request = fake.requests.find((r) => r.body.messages.at(-1)?.content === `${tag} ${i}`);
      expected.push({ chatId: chatIds[i]!, sent: request?.sent });
    }
    const streams = run.tabs[0]!;
    const ok = streams.filter((s) => s.doneAt && !s.failed);
    const latencies = streams.flatMap((s) => s.latencies);
    const firstSent = Math.min(...streams.map((s) => s.sentAt));
    const lastDone = Math.max(...ok.map((s) => s.doneAt!));
    const requests = (list: Sent[]) => ({
      count: list.length,
      medianMs: quantile(
        list.map((s) => s.ms),
        0.5,
      ),
      maxMs: Math.max(...list.map((s) => s.ms)),
      statuses: [...new Set(list.map((s) => s.status))],
    });
    const firstFailure = streams.find((s) => s.failed)?.failed;
    if (firstFailure) {
      failed = true;
      console.log(`${label}: ${STREAMS - ok.length} answers not seen whole (first: ${firstFailure})`);
    }
    return {
      label,
      streams: STREAMS,
      errors: STREAMS - ok.length,
      frameLatencyMs: {
        median: quantile(latencies, 0.5),
        p99: quantile(latencies, 0.99),
        max: Math.max(...latencies),
      },
      tokensPerSecond: ok.length ? (ok.length * TOKENS) / ((lastDone - firstSent) / 1e6) : 0,
      serverCpuPercent: run.processes[0]!.cpuPercent,
      machineCpuPercent: run.machineCpuPercent,
      ...(sent && { uploads: requests(sent.uploads), imports: requests(sent.imports) }),
    };
  };

  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "–");
  const requests = (what: string, r: Run["uploads"]) =>
    r ? `${r.count} ${what} (median ${f(r.medianMs)} ms, max ${f(r.maxMs)} ms, HTTP ${r.statuses.join("/")})` : "";
  console.log(
    `${STREAMS} streams on ${DRIVER}, ${useBinary ? binary : "sources"}; files: ${UPLOAD_MB} MB text uploads, imports of ${IMPORT_MB} MB of attachments`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    for (const label of ["quiet", "files"] as const) {
      const r = await streamRun(label);
      runs.push(r);
      console.log(
        `${label.padEnd(6)} | frame ${f(r.frameLatencyMs.median)}/${f(r.frameLatencyMs.p99)}/${f(r.frameLatencyMs.max)} ms (median/p99/max) | ${f(r.tokensPerSecond)} tok/s | ${r.errors} errors | server CPU ${f(r.serverCpuPercent)}%, machine ${f(r.machineCpuPercent)}% | ${requests("uploads", r.uploads)} ${requests("imports", r.imports)}`,
      );
      await Bun.sleep(1000);
    }
  }
} catch (err) {
  failed = true;
  console.error(`files-load benchmark failed: ${(err as Error).message}`);
} finally {
  server.kill("SIGTERM");
  await server.exited;
  await fake.stop();
}

// Every answer stored whole: what the upstream sent, complete.
if (dataDir) database = await openDb();
const stored = new Set(
  (
    await database.db
      .select({ chatId: messages.chatId, content: messages.content })
      .from(messages)
      .where(
        and(
          eq(messages.status, "complete"),
          inArray(messages.chatId, [...new Set(expected.map((e) => e.chatId))]),
          eq(messages.role, "assistant"),
        ),
      )
  ).map((m) => `${m.chatId} ${m.content}`),
);
lost = expected.filter((e) => !e.sent || !stored.has(`${e.chatId} ${e.sent}`)).length;
const [files] = await database.rows<{ n: number; mb: number }>(
  sql`select count(*)::int as n, (coalesce(sum(size), 0) / 1048576)::int as mb from files`,
);
console.log(
  `lost text: ${lost} of ${expected.length} answers not stored whole; ${files?.n} files stored (${files?.mb} MB)`,
);
if (lost) failed = true;
await database.close();
await target?.drop();
await pg?.stop();
if (dataDir) rmSync(resolve(dataDir, ".."), { recursive: true, force: true });

mkdirSync(join(import.meta.dir, "results"), { recursive: true });
writeFileSync(
  join(import.meta.dir, "results", `files-load-${Date.now()}.json`),
  JSON.stringify(
    {
      machine: `${navigator.hardwareConcurrency} cores`,
      parley: useBinary ? binary : "sources",
      driver: DRIVER,
      tokens: TOKENS,
      tokenMs: TOKEN_MS,
      uploadMb: UPLOAD_MB,
      importMb: IMPORT_MB,
      runs,
      lost,
    },
    null,
    2,
  ),
);
process.exit(failed ? 1 : 0);
