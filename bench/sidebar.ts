/**
 * How long the app's page takes to open as a person's chats grow: 100 chats without projects
 * against 10,000 chats in 50 projects (a few pinned, a tenth archived), on the embedded database
 * and on Postgres (when one answers). The page shows only the first part of the list; the rest
 * loads on scroll, a project group's chats when it is opened. Three requests for each person:
 * the new-chat page (GET /), a chat in a project (its group comes open with it) and opening a
 * group (GET /projects/<id>/chats). Prints a table and writes JSON to bench/results/.
 * Usage: bun bench/sidebar.ts
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { and, desc, eq, isNotNull } from "drizzle-orm";
import type { Database } from "../src/db/client.ts";
import { chats, projects } from "../src/db/schema.ts";
import { benchApp, onBothDrivers } from "./support.ts";

const PEOPLE = [
  { name: "hundred", chats: 100, projects: 0 },
  { name: "tenthousand", chats: 10_000, projects: 50 },
];
const RUNS = 30;

async function seed(database: Database, userId: string, count: number, projectCount: number) {
  const made = projectCount
    ? await database.db
        .insert(projects)
        .values(Array.from({ length: projectCount }, (_, i) => ({ userId, name: `Project ${i + 1}` })))
        .returning({ id: projects.id })
    : [];
  const start = Date.now() - count * 60_000;
  for (let i = 0; i < count; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, count - i) }, (_, j) => {
      const n = i + j;
      const at = new Date(start + n * 60_000);
      return {
        userId,
        title: `Chat number ${n} about something`,
        model: "m",
        createdAt: at,
        updatedAt: at,
        // Most chats in a project when there are projects; every tenth archived, a few pinned.
        projectId: made.length && n % 5 !== 0 ? made[n % made.length]!.id : null,
        archivedAt: made.length && n % 10 === 3 ? at : null,
        pinnedAt: made.length && n % 2000 === 7 ? at : null,
      };
    });
    await database.db.insert(chats).values(rows);
  }
}

async function measure(label: string, database: Database) {
  const app = benchApp(database);
  const rows = [];
  for (const person of PEOPLE) {
    const { user, cookie } = await app.person(person.name, person === PEOPLE[0]);
    await seed(database, user.id, person.chats, person.projects);
    if (database.driver === "pglite") await database.pglite!.exec("analyze");
    // The newest chat in a project (or, without projects, the newest chat) and its project.
    const [newest] = await database.db
      .select({ id: chats.id, projectId: chats.projectId })
      .from(chats)
      .where(and(eq(chats.userId, user.id), person.projects ? isNotNull(chats.projectId) : undefined))
      .orderBy(desc(chats.updatedAt))
      .limit(1);
    const paths: [string, string][] = [
      ["new chat", "/"],
      ["a chat", `/chats/${newest!.id}`],
    ];
    if (newest!.projectId) paths.push(["a group", `/projects/${newest!.projectId}/chats`]);
    for (const [what, path] of paths) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < RUNS + 3; i++) {
        const started = performance.now();
        const res = await fetch(app.base + path, { headers: { cookie, accept: "text/html" } });
        if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}`);
        bytes = (await res.arrayBuffer()).byteLength;
        if (i >= 3) times.push(performance.now() - started); // the first runs warm caches
      }
      times.sort((a, b) => a - b);
      rows.push({
        driver: label,
        chats: person.chats,
        projects: person.projects,
        what,
        medianMs: times[Math.floor(times.length / 2)]!,
        p95Ms: times[Math.floor(times.length * 0.95)]!,
        kb: bytes / 1024,
      });
    }
  }
  await app.stop();
  return rows;
}

const results = (await onBothDrivers(measure)).flat();

console.log("Opening the app and its sidebar, 127.0.0.1:");
console.log("driver       chats  projects  request     median ms   p95 ms   page KB");
for (const r of results) {
  console.log(
    `${r.driver.padEnd(10)} ${String(r.chats).padStart(7)} ${String(r.projects).padStart(9)}  ${r.what.padEnd(9)} ${r.medianMs.toFixed(2).padStart(11)} ${r.p95Ms.toFixed(2).padStart(8)} ${r.kb.toFixed(1).padStart(9)}`,
  );
}
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL(`./results/sidebar-${Date.now()}.json`, import.meta.url),
  JSON.stringify({ machine: `${navigator.hardwareConcurrency} cores`, results }, null, 2),
);
process.exit(0);
