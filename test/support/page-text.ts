/** What a person reads in a page's messages: the alert (a refusal) or the status notice (a confirmation). */

/** The sentence a refusal shows (the page's alert), as text. */
export function alertOf(html: string): string | undefined {
  const text = /<p role="alert"[^>]*>([^<]*)<\/p>/.exec(html)?.[1];
  return text === undefined ? undefined : decodeEntities(text);
}

/** The confirmation a page shows (its status notice), as text. */
export function noticeOf(html: string): string | undefined {
  const text = /<p role="status"[^>]*>([^<]*)<\/p>/.exec(html)?.[1];
  return text === undefined ? undefined : decodeEntities(text);
}

/** The entities kitajs writes for text, back to the characters. */
function decodeEntities(text: string): string {
  return text
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&#x27;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}
