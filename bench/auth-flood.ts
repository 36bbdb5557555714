/**
 * Floods of hostile account requests against a real `parley serve` (the binary given, or the
 * sources): what they cost the server in CPU, and how long a real person's sign-in takes meanwhile.
 *   bun bench/auth-flood.ts [path/to/parley]
 * Embedded database in a temporary DATA_DIR; every request comes from 127.0.0.1.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runParley, startParley } from "../test/support/process.ts";

if (process.argv[2]) process.env.PARLEY_BIN = process.argv[2];
const PASSWORD = "a long test password";
const dataDir = mkdtempSync(join(tmpdir(), "parley-auth-flood-"));
const env = { DATA_DIR: dataDir };
for (const name of ["admin", "target"]) {
  if ((await runParley(["user", "create", name], env, undefined, PASSWORD)).code !== 0) throw new Error(`no ${name}`);
}
const parley = await startParley(env);

/** CPU seconds the server process has used (user + system). */
const cpu = () => {
  const fields = readFileSync(`/proc/${parley.proc.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const post = (path: string, fields: Record<string, string>) =>
  fetch(parley.url + path, {
    method: "POST",
    headers: { Origin: parley.url },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
/** Runs `count` requests at once, and one real sign-in in the middle of them; prints what they cost. */
async function flood(what: string, count: number, request: (i: number) => Promise<Response>) {
  const before = cpu();
  const started = performance.now();
  const all = Array.from({ length: count }, (_, i) => request(i));
  const signInStarted = performance.now();
  const signIn = post("/signin", { username: "admin", password: PASSWORD }).then((r) => ({
    status: r.status,
    ms: performance.now() - signInStarted,
  }));
  const statuses: Record<number, number> = {};
  for (const r of await Promise.all(all)) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  const real = await signIn;
  console.log(
    `${what}: ${Math.round(performance.now() - started)} ms, server CPU ${(cpu() - before).toFixed(2)} s, ` +
      `answers ${JSON.stringify(statuses)}; a real sign-in meanwhile: ${real.status} in ${Math.round(real.ms)} ms`,
  );
}

try {
  console.log(`auth floods against ${process.env.PARLEY_BIN ?? "the sources"}:`);
  await flood("300 set-up forms on a set-up server", 300, (i) =>
    post("/setup", { username: `late${i}`, password: PASSWORD }),
  );
  await flood("60 wrong passwords for another account", 60, () =>
    post("/signin", { username: "target", password: "not the password" }),
  );
} finally {
  await parley.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
