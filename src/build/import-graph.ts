/**
 * `bun src/build/import-graph.ts`, run by `npm run check` before the tests: the imports between
 * the files of src/ and views/, checked against the rules below (docs/architecture.md, "Which
 * file imports which"). Prints each problem as a chain of imports and exits 1 if there is any.
 *
 * Type-only imports count: they vanish at run time, but they are structure all the same, and a
 * circle of types is still two files that cannot be understood apart.
 *
 * Layers are told apart by file name, as the layout names them, so a new file falls into its
 * layer by being named like its neighbours:
 * - repositories: `repo.ts`, `*-repo.ts`, or any file in a `repo/` or `repos/` folder of src/;
 * - services: `service.ts`, `*-service.ts`, or any file in a `service/` or `services/` folder;
 * - routes (the HTTP layer): `routes.ts`, `*-routes.ts`, `socket.ts`, and everything in src/http/;
 * - views: everything in views/.
 *
 * The rules:
 * 1. No circles.
 * 2. A view imports no service or repository, not even for a type, and what it runs does not
 *    reach one through other files either (so a service named otherwise is caught by the
 *    repository it imports). Views import types and view helpers; a constant both sides need
 *    lives in a leaf module such as src/limits.ts, a type in src/<feature>/types.ts.
 * 3. In src/, only routes import views (they render pages), and `broadcast.ts`, which renders the
 *    fragments pushed to sockets. Services and repositories render nothing.
 * 4. Imports run down, route → service → repository: a repository imports no service or route,
 *    nor reaches one through what it runs; a service imports no route.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

/** One file's import of another, both named from the project's root. */
export type Import = { from: string; to: string; typeOnly: boolean };

/** Every file checked, with its imports of other checked files. */
export type ImportGraph = Map<string, Import[]>;

const ROOTS = ["src", "views"];

/**
 * The module each import or export-from declaration names. Every one starts a line (the
 * formatter keeps it so) and holds no quote or semicolon before its `from`.
 */
const DECLARATION = /^[ \t]*(?:import|export)\b[^;'"`]*?\bfrom\s*(["'])([^"'\n]+)\1/gm;

/** Reads the import graph of src/ and views/ under `root`. */
export function readImportGraph(root: string): ImportGraph {
  const files = ROOTS.flatMap((dir) => [...new Bun.Glob(`${dir}/**/*.{ts,tsx}`).scanSync({ cwd: root })])
    .filter((file) => !file.endsWith(".d.ts"))
    .sort();
  const transpilers = { ts: new Bun.Transpiler({ loader: "ts" }), tsx: new Bun.Transpiler({ loader: "tsx" }) };
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const source = readFileSync(join(root, file), "utf8");
    // Bun's scan is exact about what runs (dynamic imports included) and, like the compiled code,
    // leaves out imports of types only: a module the source names that it does not list is one.
    const runs = transpilers[file.endsWith(".tsx") ? "tsx" : "ts"].scanImports(source).map((i) => i.path);
    const specifiers = new Map<string, boolean>();
    for (const match of source.matchAll(DECLARATION)) specifiers.set(match[2]!, true);
    for (const specifier of runs) specifiers.set(specifier, false);
    const imports: Import[] = [];
    for (const [specifier, typeOnly] of specifiers) {
      const to = resolveImport(root, file, specifier);
      if (to && !imports.some((i) => i.to === to)) imports.push({ from: file, to, typeOnly });
    }
    graph.set(file, imports);
  }
  return graph;
}

/** The checked file a relative specifier names, if it names one. */
function resolveImport(root: string, from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const path = relative(root, resolve(root, dirname(from), specifier));
  if (!ROOTS.some((dir) => path.startsWith(`${dir}/`)) || !/\.tsx?$/.test(path)) return undefined;
  return existsSync(join(root, path)) ? path : undefined;
}

const baseName = (file: string) => file.slice(file.lastIndexOf("/") + 1).replace(/\.tsx?$/, "");
/** `kind.ts`, `*-kind.ts`, or any file in a `kind/` or `kinds/` folder, in src/. */
const named = (file: string, kind: string) =>
  file.startsWith("src/") &&
  (baseName(file) === kind ||
    baseName(file).endsWith(`-${kind}`) ||
    file
      .split("/")
      .slice(0, -1)
      .some((folder) => folder === kind || folder === `${kind}s`));

const isView = (file: string) => file.startsWith("views/");
const isRepository = (file: string) => named(file, "repo");
const isService = (file: string) => named(file, "service");
const isRoute = (file: string) => file.startsWith("src/http/") || named(file, "routes") || named(file, "socket");
const rendersForSocket = (file: string) => file.startsWith("src/") && baseName(file) === "broadcast";

type Rule = {
  /** The files the rule is about. */
  of: (file: string) => boolean;
  /** The files they may not import. */
  forbids: (file: string) => boolean;
  /** Whether they may not reach those through what they run either. */
  through: boolean;
  why: string;
};

const RULES: Rule[] = [
  {
    of: isView,
    forbids: (to) => isService(to) || isRepository(to),
    through: true,
    why: "views import types and view helpers, never a service or a repository",
  },
  {
    of: (file) => file.startsWith("src/") && !isRoute(file) && !rendersForSocket(file),
    forbids: isView,
    through: false,
    why: "in src/ only routes, and broadcast.ts for the socket's fragments, import views",
  },
  {
    of: isRepository,
    forbids: (to) => isService(to) || isRoute(to),
    through: true,
    why: "imports run route → service → repository",
  },
  { of: isService, forbids: isRoute, through: false, why: "imports run route → service → repository" },
];

/** Every broken rule in the graph, one line each, naming the files. */
export function importProblems(graph: ImportGraph): string[] {
  return [...circles(graph), ...wrongWay(graph)];
}

/** `a → b → (type) c`: a chain of imports, marking those of types only. */
function chain(path: Import[]): string {
  return [path[0]!.from, ...path.map((i) => `${i.typeOnly ? "(type) " : ""}${i.to}`)].join(" → ");
}

/** One circle for each group of files that import each other (Tarjan's strongly connected components). */
function circles(graph: ImportGraph): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    for (const { to } of graph.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (stack.includes(to)) {
        low.set(file, Math.min(low.get(file)!, index.get(to)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const group = new Set(stack.splice(stack.indexOf(file)));
    // A group of one file is a circle only if the file imports itself.
    const circle = shortestPath(
      graph,
      file,
      (to) => to === file,
      (i) => group.has(i.to),
    );
    if (circle) found.push(`circle: ${chain(circle)}`);
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

/** The shortest chain of imports from `start` to a file `arrived` accepts, along those `follow` accepts. */
function shortestPath(
  graph: ImportGraph,
  start: string,
  arrived: (file: string) => boolean,
  follow: (i: Import) => boolean,
): Import[] | undefined {
  const reached = new Map<string, Import[]>([[start, []]]);
  const queue = [start];
  for (const file of queue) {
    for (const i of graph.get(file) ?? []) {
      if (!follow(i)) continue;
      const path = [...reached.get(file)!, i];
      if (arrived(i.to)) return path;
      if (reached.has(i.to)) continue;
      reached.set(i.to, path);
      queue.push(i.to);
    }
  }
  return undefined;
}

/** Imports that break a rule of RULES, directly or, for those that say so, through what runs. */
function wrongWay(graph: ImportGraph): string[] {
  const found: string[] = [];
  for (const [file, imports] of graph) {
    for (const rule of RULES.filter((r) => r.of(file))) {
      for (const i of imports) {
        if (rule.forbids(i.to)) {
          found.push(`${chain([i])}: ${rule.why}`);
        } else if (rule.through && !i.typeOnly && !rule.of(i.to)) {
          // A file of the same kind is checked on its own; this follows what runs beyond it.
          const rest = shortestPath(graph, i.to, rule.forbids, (next) => !next.typeOnly);
          if (rest) found.push(`${chain([i, ...rest])}: ${rule.why}`);
        }
      }
    }
  }
  return found;
}

if (import.meta.main) {
  const started = performance.now();
  const graph = readImportGraph(join(import.meta.dir, "../.."));
  const problems = importProblems(graph);
  const ms = Math.round(performance.now() - started);
  for (const problem of problems) console.error(problem);
  const imports = [...graph.values()].reduce((n, list) => n + list.length, 0);
  console.log(
    `import graph of src/ and views/: ${graph.size} files, ${imports} imports, ${problems.length} problems (${ms} ms)`,
  );
  if (problems.length) process.exit(1);
}
