import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type ImportGraph, importProblems, readImportGraph } from "../../src/build/import-graph.ts";

/** A graph from lines such as "views/a.tsx -> src/b.ts" (what runs) and "views/a.tsx => src/b.ts" (types only). */
function graph(...lines: string[]): ImportGraph {
  const g: ImportGraph = new Map();
  for (const line of lines) {
    const [from, arrow, to] = line.split(" ") as [string, string, string];
    for (const file of [from, to]) if (!g.has(file)) g.set(file, []);
    g.get(from)!.push({ from, to, typeOnly: arrow === "=>" });
  }
  return g;
}

describe("the import graph check", () => {
  test("finds a circle, naming its files in order, even one closed by a type-only import", () => {
    expect(importProblems(graph("src/a.ts -> src/b.ts", "src/b.ts -> src/c.ts", "src/c.ts => src/a.ts"))).toEqual([
      "circle: src/a.ts → src/b.ts → src/c.ts → (type) src/a.ts",
    ]);
    expect(importProblems(graph("src/a.ts -> src/a.ts"))).toEqual(["circle: src/a.ts → src/a.ts"]);
  });

  test("passes imports that run one way", () => {
    const ok = graph(
      "src/chat/routes.ts -> views/pages/chat.tsx",
      "src/chat/routes.ts -> src/chat/service.ts",
      "src/chat/service.ts -> src/chat/repo.ts",
      "src/chat/service.ts -> src/chat/broadcast.ts",
      "src/chat/broadcast.ts -> views/pages/chat.tsx",
      "src/http/manifest.ts -> views/layout.tsx",
      "views/pages/chat.tsx -> views/layout.tsx",
      "views/pages/chat.tsx -> src/limits.ts",
      "views/pages/chat.tsx => src/chat/types.ts",
      "src/chat/repo.ts => src/chat/types.ts",
    );
    expect(importProblems(ok)).toEqual([]);
  });

  test("refuses a view importing a service or a repository, even for a type", () => {
    expect(
      importProblems(
        graph("views/components/share.tsx => src/share/service.ts", "views/pages/x.tsx -> src/chat/repo.ts"),
      ),
    ).toEqual([
      "views/components/share.tsx → (type) src/share/service.ts: views import types and view helpers, never a service or a repository",
      "views/pages/x.tsx → src/chat/repo.ts: views import types and view helpers, never a service or a repository",
    ]);
  });

  test("refuses a view whose imports reach a service through other files, whatever the service's name", () => {
    const reaches = graph(
      "views/components/transfer.tsx -> src/transfer/read.ts",
      "src/transfer/read.ts -> src/chat/exchange.ts",
      "src/chat/exchange.ts -> src/chat/repos/messages.ts",
    );
    expect(importProblems(reaches)).toEqual([
      "views/components/transfer.tsx → src/transfer/read.ts → src/chat/exchange.ts → src/chat/repos/messages.ts: views import types and view helpers, never a service or a repository",
    ]);
    // Only what runs is followed: a type from a file that imports a repository is a type.
    expect(
      importProblems(graph("views/a.tsx => src/chat/exchange.ts", "src/chat/exchange.ts -> src/chat/repo.ts")),
    ).toEqual([]);
  });

  test("refuses a service or a repository importing a view, and imports running up the layers", () => {
    expect(
      importProblems(
        graph(
          "src/chat/service.ts -> views/components/message.tsx",
          "src/chat/exchange-service.ts => views/pages/chat.tsx",
          "src/transfer/repo.ts -> src/transfer/read.ts",
          "src/transfer/read.ts -> src/chat/service.ts",
          "src/presets/service.ts -> src/presets/routes.ts",
        ),
      ),
    ).toEqual([
      "src/chat/service.ts → views/components/message.tsx: in src/ only routes, and broadcast.ts for the socket's fragments, import views",
      "src/chat/exchange-service.ts → (type) views/pages/chat.tsx: in src/ only routes, and broadcast.ts for the socket's fragments, import views",
      "src/transfer/repo.ts → src/transfer/read.ts → src/chat/service.ts: imports run route → service → repository",
      "src/presets/service.ts → src/presets/routes.ts: imports run route → service → repository",
    ]);
  });
});

describe("reading the import graph", () => {
  const root = mkdtempSync(join(tmpdir(), "parley-imports-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const write = (file: string, text: string) => {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), text);
  };

  test("sees every kind of import, and tells those of types only from those that run", () => {
    write(
      "views/page.tsx",
      `import type { A } from "../src/a.ts";
import { type B, type C } from "../src/b.ts";
import {
  type D,
  e,
} from "../src/d.ts";
import { f } from "./parts.tsx";
import { Elysia } from "elysia";
export type { G } from "../src/g.ts";
export const page = (a: A, b: B, c: C, d: D) => [a, b, c, d, e, f, Elysia, import("../src/lazy.ts")];
`,
    );
    write("views/parts.tsx", `export const f = () => <p>{"import x from './nowhere.ts'"}</p>;\n`);
    for (const file of ["src/a.ts", "src/b.ts", "src/d.ts", "src/g.ts", "src/lazy.ts"]) write(file, "export {};\n");
    write("src/types.d.ts", `import "./a.ts";\n`);

    const g = readImportGraph(root);
    expect([...g.keys()].sort()).toEqual([
      "src/a.ts",
      "src/b.ts",
      "src/d.ts",
      "src/g.ts",
      "src/lazy.ts",
      "views/page.tsx",
      "views/parts.tsx",
    ]);
    expect(
      g
        .get("views/page.tsx")!
        .map(({ to, typeOnly }) => `${typeOnly ? "type" : "runs"} ${to}`)
        .sort(),
    ).toEqual([
      "runs src/d.ts",
      "runs src/lazy.ts",
      "runs views/parts.tsx",
      "type src/a.ts",
      "type src/b.ts",
      "type src/g.ts",
    ]);
    expect(g.get("views/parts.tsx")).toEqual([]);
  });
});
