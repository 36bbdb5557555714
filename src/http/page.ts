/**
 * A whole page with a status other than 200. Elysia's html plugin gives the HTML content type
 * only to a bare string; wrapped in `status()` a page would reach the browser as plain text.
 */
export function pageWithStatus(status: number, html: string): Response {
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8" } });
}
