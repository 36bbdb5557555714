/**
 * Text as people mean it: forms send line breaks as CRLF, stored as LF; NUL (U+0000) means
 * nothing in a message and Postgres text cannot hold it, so it is dropped.
 */
export function plainText(text: string): string {
  return text.replace(/\r\n?/g, "\n").replaceAll("\0", "");
}
