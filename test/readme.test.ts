import { expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import pkg from "../package.json";
import { settingsMarkdown } from "../src/config-help.ts";

const readme = await Bun.file(new URL("../README.md", import.meta.url)).text();
const settingsDoc = await Bun.file(new URL("../docs/settings.md", import.meta.url)).text();

test("docs/settings.md's table is the one generated from the config module", () => {
  const section = settingsDoc.split("<!-- settings:start")[1]?.split("<!-- settings:end -->")[0] ?? "";
  const table = section.slice(section.indexOf("-->") + 3).trim();
  expect(table).toBe(settingsMarkdown());
});

test("the README opens with exactly two quick-start commands: run the app, run the tests", () => {
  const quickStart = readme.split("## Quick start")[1]?.split("```sh")[1]?.split("```")[0] ?? "";
  const commands = quickStart.trim().split("\n");
  expect(commands).toEqual(["npm install && npm start", "npm test"]);
  const { scripts } = pkg;
  expect(scripts.start).toContain("src/cli.ts serve");
  // The test command brings what it needs from the system first (Chromium, Caddy, Postgres).
  expect(scripts.pretest).toBe("bun test/prerequisites.ts");
  expect(scripts.test).toBe("bun run check");
  expect(scripts.check).toContain("bun test");
});

test("the README fits on a few screens and links every page of docs/", () => {
  expect(readme.split("\n").length).toBeLessThan(250);
  const pages = readdirSync(new URL("../docs", import.meta.url)).filter((f) => f.endsWith(".md"));
  expect(pages.length).toBeGreaterThan(10);
  expect(pages.filter((page) => !readme.includes(`(docs/${page})`) && !readme.includes(`(docs/${page}#`))).toEqual([]);
});
