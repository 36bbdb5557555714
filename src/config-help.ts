import { type Setting, settings } from "./config.ts";

/** The settings as people read them: `parley --help` and docs/settings.md. */

/** The settings table for `--help`: secrets show only whether they are set. */
export function describeSettings(env: Record<string, string | undefined> = process.env): string {
  const all = Object.values(settings as Record<string, Setting<unknown>>);
  // The column fits the longest name, so no name runs into its description.
  const indent = 2 + Math.max(...all.map((s) => s.name.length)) + 2;
  const rows = all.map((s) => {
    const current = env[s.name];
    const shown = current === undefined ? "" : s.secret ? " [set]" : ` [now: ${current}]`;
    const fallback = s.default === undefined ? "unset" : s.default;
    const secret = s.secret ? " (secret)" : "";
    const lines = wrap(`${s.description}${secret}`, HELP_WIDTH - indent);
    lines.push(`default: ${fallback}${shown}`);
    return lines.map((line, i) => (i === 0 ? `  ${s.name}`.padEnd(indent) : " ".repeat(indent)) + line).join("\n");
  });
  return rows.join("\n");
}

/** `parley --help` fits an 80-column terminal. */
const HELP_WIDTH = 80;

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  lines.push(line);
  return lines;
}

/** The settings as a Markdown table, for docs/settings.md (a test keeps the two identical). */
export function settingsMarkdown(): string {
  const rows = Object.values(settings as Record<string, Setting<unknown>>).map(
    (s) =>
      `| \`${s.name}\` | ${s.default === undefined ? "unset" : `\`${s.default}\``} | ${s.secret ? "yes" : "no"} | ${s.description} |`,
  );
  return ["| Variable | Default | Secret | Meaning |", "| --- | --- | --- | --- |", ...rows].join("\n");
}
