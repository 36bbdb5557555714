/**
 * True when a request comes from a page of this site: its Origin is the site's public URL, or
 * the host it was sent to, and the browser does not call it cross-site. Browsers always send
 * Origin on WebSocket upgrades and cross-site posts; a missing one is refused.
 */
export function sameOrigin(request: Request, publicUrl: string): boolean {
  // Browsers that send Sec-Fetch-Site say outright where the request comes from; a sibling
  // subdomain ("same-site") is another site for our purposes.
  const site = request.headers.get("sec-fetch-site");
  if (site === "cross-site" || site === "same-site") return false;
  const origin = request.headers.get("origin");
  if (!origin) return false;
  if (origin === new URL(publicUrl).origin) return true;
  const host = request.headers.get("host");
  try {
    return host !== null && new URL(origin).host === host;
  } catch {
    return false;
  }
}
