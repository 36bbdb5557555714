import { expect, test } from "bun:test";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).map((f) => `docs/${f}`)].filter((f) => f.endsWith(".md"));
const read = (path: string) => Bun.file(join(ROOT, path)).text();

/** Markdown outside code fences (a fence's `[x](y)` or `> x` is code, not a link or a quote). */
async function prose(path: string): Promise<string[]> {
  let fenced = false;
  return (await read(path)).split("\n").filter((line) => {
    if (line.startsWith("```")) fenced = !fenced;
    return !fenced && !line.startsWith("```");
  });
}

/** Every file the messages people see can come from. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return name === "build" || name === "icons" ? [] : sources(path);
    return /\.(ts|tsx|js)$/.test(name) ? [path] : [];
  });
}

test("every message the operator docs quote is still in the code, word for word", async () => {
  // A sentence split over lines as "…; " + "…" reads as one.
  const code = await Promise.all(
    ["src", "views", "static"]
      .flatMap(sources)
      .map(async (f) => ({ f, text: (await read(f)).replace(/(["'`])\s*\+\s*\1/g, "") })),
  );
  const quoted: string[] = [];
  for (const doc of ["docs/troubleshooting.md", "docs/upgrades.md"]) {
    for (const line of await prose(doc)) if (line.startsWith("> ")) quoted.push(line.slice(2));
  }
  expect(quoted.length).toBeGreaterThan(10);
  // `{…}` in a quote stands for what varies (a port, a path): the words around it must appear in
  // one file, in that order.
  const missing = quoted.filter((quote) => {
    const pieces = quote.split(/\{[^}]+\}/).filter(Boolean);
    return !code.some(({ text }) => {
      let at = 0;
      for (const piece of pieces) {
        at = text.indexOf(piece, at);
        if (at < 0) return false;
        at += piece.length;
      }
      return true;
    });
  });
  expect(missing).toEqual([]);
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2. */
async function anchors(path: string): Promise<Set<string>> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const line of await prose(path)) {
    const heading = /^#{1,6} (.+)$/.exec(line)?.[1];
    if (!heading) continue;
    const slug = heading
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/\s/g, "-");
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    found.add(n ? `${slug}-${n}` : slug);
  }
  return found;
}

/**
 * Sections the docs link to that are being written on another branch (backups, moving to
 * Postgres). Whoever merges that branch empties this list.
 */
test("the README's and docs' links to files and headings of this repository lead somewhere", async () => {
  const broken: string[] = [];
  let checked = 0;
  for (const doc of DOCS) {
    for (const line of await prose(doc)) {
      for (const [, target] of line.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue; // https:, mailto:
        const [file, anchor] = target!.split("#");
        const path = file ? relative(ROOT, resolve(dirname(join(ROOT, doc)), file)) : doc;
        checked++;
        if (!existsSync(join(ROOT, path))) broken.push(`${doc}: ${target} (no such file)`);
        else if (anchor && path.endsWith(".md") && !(await anchors(path)).has(anchor)) {
          broken.push(`${doc}: ${target} (no such heading)`);
        }
      }
    }
  }
  expect(checked).toBeGreaterThan(20);
  expect(broken).toEqual([]);
});
