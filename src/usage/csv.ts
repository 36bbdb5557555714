/**
 * CSV as spreadsheets read it (RFC 4180). A text cell that starts like a formula (`=`, `+`, `-`,
 * `@`, a tab or a carriage return) gets a leading `'`: a username such as `=HYPERLINK(...)` must
 * stay text when the admin opens the file.
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return "";
  // Never 1e-7: dollars to ten decimals, as the database keeps them.
  if (typeof value === "number")
    return Number.isInteger(value) ? String(value) : value.toFixed(10).replace(/\.?0+$/, "");
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csv(rows: (string | number | null)[][]): string {
  return rows
    .map((r) => r.map(csvCell).join(","))
    .join("\r\n")
    .concat("\r\n");
}
