/**
 * Smoke test of the compiled binary, as a user would run it: copied alone into an empty folder
 * (no node_modules, drizzle/ or static/ beside it), started on the embedded database with no
 * network (a network namespace with only loopback, where `unshare` allows), then on Postgres.
 * Checks readiness, the page, every asset, that nothing else is servable, and a clean SIGTERM;
 * prints start-to-ready times for docs/performance.md. Usage: bun test/smoke-binary.ts dist/parley
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeUpstream } from "./fake-upstream.ts";
import { postForm } from "./support/http.ts";
import { createDatabase, findPostgres } from "./support/postgres.ts";
import { endOfShown, openSocket } from "./support/ws.ts";

const source = resolve(process.argv[2] ?? "dist/parley");
const folder = mkdtempSync(join(tmpdir(), "parley-bin-"));
const binary = join(folder, "parley");
copyFileSync(source, binary);
let failures = 0;
let passes = 0;

/** Prints failures at once; a run's passes are summed up in one line at its end. */
function check(what: string, ok: boolean, detail = "") {
  if (ok) passes++;
  else failures++;
  if (!ok || process.env.VERBOSE) console.log(`${ok ? "ok  " : "FAIL"} ${what}${detail ? ` (${detail})` : ""}`);
}

/** Where `unshare -n` works, the binary runs with loopback only: proof it fetches nothing. */
async function isolatedNetwork(): Promise<boolean> {
  const probe = Bun.spawnSync(["unshare", "-n", "sh", "-c", "ip link set lo up 2>/dev/null || true"]);
  return probe.exitCode === 0;
}

/**
 * Starts the binary and checks it. A port picked at random can be taken meanwhile (by an
 * outgoing connection, even); then the binary says so and exits, and another port is tried.
 */
async function run(label: string, env: Record<string, string>, isolate: boolean): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const readyMs = await runOnce(label, env, isolate, attempt === 3);
    if (readyMs !== "port in use") return readyMs;
    console.log(`${label}: the port was taken meanwhile; trying another`);
  }
}

async function runOnce(
  label: string,
  env: Record<string, string>,
  isolate: boolean,
  lastTry: boolean,
): Promise<number | "port in use"> {
  // Below Linux's ephemeral range (32768-60999), where outgoing connections take their ports.
  const port = String(20000 + Math.floor(Math.random() * 12000));
  const inner = `ip link set lo up 2>/dev/null; exec ${binary} serve`;
  const argv = isolate ? ["unshare", "-n", "sh", "-c", inner] : [binary, "serve"];
  const passesBefore = passes;
  const started = performance.now();
  const proc = Bun.spawn(argv, {
    cwd: folder,
    env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", PORT: port, LOG_FORMAT: "json", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const base = `http://127.0.0.1:${port}`;
  let readyMs = Number.NaN;
  // In a separate network namespace we cannot reach the port from here; ask from inside instead.
  const fetchIn = async (path: string, headers: Record<string, string> = {}) => {
    if (!isolate) {
      const res = await fetch(base + path, { headers, redirect: "manual" });
      return { status: res.status, headers: res.headers, body: new Uint8Array(await res.arrayBuffer()) };
    }
    const target = `/proc/${proc.pid}/ns/net`;
    const curl = Bun.spawnSync([
      "nsenter",
      `--net=${target}`,
      "curl",
      "-s",
      "-D",
      "-",
      ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
      base + path,
    ]);
    // Split as bytes: a PNG's body is not text, and decoding it would change it.
    const raw = new Uint8Array(curl.stdout);
    const split = Buffer.from(raw).indexOf("\r\n\r\n");
    const head = split >= 0 ? new TextDecoder().decode(raw.subarray(0, split)) : "";
    const status = Number(head.split(" ")[1] ?? 0);
    const h = new Headers();
    for (const line of head.split("\r\n").slice(1)) {
      const i = line.indexOf(":");
      if (i > 0) h.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
    }
    return { status, headers: h, body: split >= 0 ? raw.subarray(split + 4) : new Uint8Array() };
  };
  for (let i = 0; i < 400; i++) {
    const res = await fetchIn("/readyz").catch(() => undefined);
    if (res?.status === 200) {
      readyMs = performance.now() - started;
      break;
    }
    if (proc.exitCode !== null) break;
    await Bun.sleep(isolate ? 25 : 5);
  }
  let earlyStderr: string | undefined;
  if (!Number.isFinite(readyMs) && proc.exitCode !== null && !lastTry) {
    earlyStderr = await new Response(proc.stderr).text();
    if (earlyStderr.includes("is already in use")) return "port in use";
  }
  check(`${label}: /readyz 200`, Number.isFinite(readyMs), `${Math.round(readyMs)} ms from spawn`);
  if (Number.isFinite(readyMs)) {
    const home = await fetchIn("/");
    check(
      `${label}: home page sends nobody to sign in`,
      home.status === 303 && home.headers.get("location") === "/signin",
    );
    // Before the first account exists, sign-in sends on to set-up.
    const entry = (await fetchIn("/signin")).status === 303 ? "/setup" : "/signin";
    const page = await fetchIn(entry);
    const html = new TextDecoder().decode(page.body);
    check(`${label}: ${entry} page 200`, page.status === 200 && html.includes("<!doctype html>"));
    const assets = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    check(
      `${label}: page links css, KaTeX's css, htmx, the ws extension, the icons and app.js`,
      assets.length === 7,
      assets.join(" "),
    );
    for (const asset of assets) {
      const res = await fetchIn(asset);
      check(
        `${label}: ${asset} 200, content matches its hash, cached a year`,
        res.status === 200 &&
          asset.includes(new Bun.CryptoHasher("sha256").update(res.body).digest("hex").slice(0, 12)) &&
          /max-age=31536000/.test(res.headers.get("cache-control") ?? ""),
        `${res.body.byteLength} bytes`,
      );
    }
    // KaTeX's fonts are embedded too, under the URLs its stylesheet was rewritten to name.
    const katexCss = assets.find((a) => a.includes("/katex."));
    const css = katexCss ? new TextDecoder().decode((await fetchIn(katexCss)).body) : "";
    const fonts = [...css.matchAll(/url\((\/assets\/[^)]+\.woff2)\)/g)].map((m) => m[1]!);
    const served = await Promise.all(
      fonts.map(async (f) => new TextDecoder().decode((await fetchIn(f)).body.slice(0, 4))),
    );
    check(
      `${label}: KaTeX's fonts come out of the binary`,
      fonts.length > 15 && served.every((magic) => magic === "wOF2"),
      `${fonts.length} fonts`,
    );
    // Bundling can break a plugin that works from the sources: the spec must come out of the binary too.
    const spec = await fetchIn("/openapi.json");
    const paths = spec.status === 200 ? Object.keys(JSON.parse(new TextDecoder().decode(spec.body)).paths ?? {}) : [];
    check(`${label}: /openapi.json lists the JSON routes`, paths.includes("/readyz"), paths.join(" "));
    for (const path of ["/src/cli.ts", "/assets/cli.ts", "/%24bunfs/root/parley", "/package.json"]) {
      check(`${label}: ${path} is not servable`, (await fetchIn(path)).status === 404);
    }
    if (env.OPENROUTER_BASE_URL) await chat(label, base);
  }
  proc.kill("SIGTERM");
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "timeout")]);
  const stderr = earlyStderr ?? (await new Response(proc.stderr).text());
  check(`${label}: SIGTERM exits 0`, code === 0, `exit ${code}${stderr ? `; stderr: ${stderr.trim()}` : ""}`);
  console.log(`${label}: ready in ${Math.round(readyMs)} ms; ${passes - passesBefore} checks passed`);
  return readyMs;
}

/** A whole exchange through the binary: the openai SDK, Markdown and highlighting run inside it. */
async function chat(label: string, base: string) {
  try {
    const form = (path: string, fields: Record<string, string>, cookie = "") => postForm(base, path, fields, cookie);
    // The first account is made on the set-up page (or already exists: 409), then signed in to.
    const account = { username: "smoke", password: SMOKE_PASSWORD };
    const setup = await form("/setup", account);
    const signin = await form("/signin", account);
    const cookie = (signin.headers.get("set-cookie") ?? "").split(";")[0]!;
    check(`${label}: set-up (${setup.status}) then sign-in (${signin.status})`, signin.status === 303 && !!cookie);
    const res = await form("/chats", { content: "hello from the smoke test" }, cookie);
    const id = /\/chats\/([0-9a-f-]+)$/.exec(res.headers.get("location") ?? "")?.[1];
    const ws = await openSocket(base, `/ws?chat=${id}`, { cookie });
    const snapshot = await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const done = (await endOfShown(ws, snapshot)) ?? snapshot;
    await ws.close();
    check(
      `${label}: a chat streams its answer to completion, highlighted`,
      done.includes('data-status="complete"') && done.includes('<span class="hljs-keyword">const</span>'),
    );
    // An import renders its answers on a worker thread: a separate entry point of the binary.
    const file = JSON.stringify({
      format: "parley-chats",
      version: 1,
      chats: [
        {
          title: "Imported",
          messages: [
            { role: "user", content: "q" },
            { role: "assistant", content: "**a**" },
          ],
        },
      ],
    });
    const upload = new FormData();
    upload.append("file", new File([file], "chats.json"));
    const imported = await fetch(`${base}/account/import`, {
      method: "POST",
      headers: { Origin: base, cookie },
      body: upload,
      redirect: "manual",
    });
    check(`${label}: an import renders its answers (303, not ${imported.status})`, imported.status === 303);
  } catch (err) {
    check(`${label}: a chat streams its answer to completion`, false, String(err));
  }
}

const SMOKE_PASSWORD = "correct horse battery staple";
const fake = startFakeUpstream({ defaults: { tokenDelayMs: 5 } });
const upstream = { OPENROUTER_BASE_URL: fake.url, OPENROUTER_API_KEY: "sk-smoke", DEFAULT_MODEL: "fake/fast" };

// A compiled Bun binary reads a .env and a bunfig.toml (whose preload runs code) from the folder
// it is started in, unless built not to: Parley's settings come from its environment alone.
const planted = join(folder, "planted-ran");
writeFileSync(join(folder, "bunfig.toml"), `preload = ["./planted.js"]\n`);
writeFileSync(join(folder, "planted.js"), `require("node:fs").writeFileSync(${JSON.stringify(planted)}, "ran");\n`);
writeFileSync(join(folder, ".env"), "HOST=203.0.113.1\nLOG_LEVEL=debug\n");

const sizeMb = statSync(binary).size / 1024 / 1024;
console.log(`binary: ${source} (${sizeMb.toFixed(1)} MiB), run from ${folder}`);
const isolate = await isolatedNetwork();
console.log(
  isolate ? "embedded database runs with no network (loopback only)" : "unshare unavailable: network not isolated",
);
const timings: Record<string, number> = {};
const dataDir = join(folder, "data");
timings["PGlite, first start (the build's template)"] = await run("pglite first start", { DATA_DIR: dataDir }, isolate);
check("a bunfig.toml in the working folder runs nothing (its preload)", !existsSync(planted));
const later: number[] = [];
for (let i = 0; i < 3; i++) later.push(await run(`pglite start ${i + 2}`, { DATA_DIR: dataDir }, isolate));
timings["PGlite, later starts (median of 3)"] = later.sort((a, b) => a - b)[1]!;
// The locked-out admin's way in, through the binary: an account made on the command line.
const created = Bun.spawnSync([binary, "user", "create", "smoke"], {
  cwd: folder,
  env: { PATH: "/usr/bin:/bin", DATA_DIR: dataDir, LOG_FORMAT: "json" },
  stdin: new TextEncoder().encode(`${SMOKE_PASSWORD}\n`),
});
check(
  "parley user create (binary)",
  created.exitCode === 0,
  created.stdout.toString().trim() + created.stderr.toString(),
);
await run("pglite with an upstream", { DATA_DIR: dataDir, ...upstream }, false);

const pg = await findPostgres();
if (pg) {
  const db = await createDatabase(pg.adminUrl);
  timings["Postgres, first start (migrates)"] = await run(
    "postgres first start",
    { DATABASE_URL: db.url, ...upstream },
    false,
  );
  const pgLater: number[] = [];
  for (let i = 0; i < 3; i++) pgLater.push(await run(`postgres start ${i + 2}`, { DATABASE_URL: db.url }, false));
  timings["Postgres, later starts (median of 3)"] = pgLater.sort((a, b) => a - b)[1]!;
  await db.drop();
  await pg.stop();
} else {
  check("postgres available for the smoke test", process.env.CI !== "true", "no Postgres could be found or started");
}

console.log("\nstart to /readyz 200, measured from spawn:");
for (const [what, ms] of Object.entries(timings)) console.log(`  ${what.padEnd(40)} ${Math.round(ms)} ms`);
await fake.stop();
rmSync(folder, { recursive: true, force: true });
console.log(`\nsmoke: ${passes} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
