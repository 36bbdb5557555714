import type { Config } from "../config.ts";

/** The session cookie's name over plain http. */
export const SESSION_COOKIE = "parley_session";
/**
 * Its name over https. Browsers accept a `__Host-` cookie only when it is Secure, has Path=/ and
 * no Domain, so no sibling subdomain (nor anyone on the path over plain http) can plant or
 * overwrite it. Over plain http the prefix cannot apply: a Secure cookie set there is refused
 * (browsers except it only for localhost), so an http install keeps the plain name.
 */
export const SECURE_SESSION_COOKIE = "__Host-parley_session";

/** The session cookie's name where `secure` says whether the site is served over https. */
export const sessionCookieName = (secure: boolean) => (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);

/**
 * The session token a request carries, if any. The `__Host-` cookie comes first; the plain one
 * is still read, so that sessions made before the prefix (or before a site moved to https) go on.
 */
export function sessionToken(request: Request): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  let plain: string | undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (name === SECURE_SESSION_COOKIE) return part.slice(eq + 1).trim();
    if (name === SESSION_COOKIE) plain ??= part.slice(eq + 1).trim();
  }
  return plain;
}

/**
 * Whether the person reached us over https: PUBLIC_URL says so, or (only when TRUST_PROXY is
 * set) the proxy in front does. Decides the cookie's Secure flag.
 */
export function isHttps(request: Request, config: Config): boolean {
  if (config.publicUrl?.startsWith("https:")) return true;
  if (new URL(request.url).protocol === "https:") return true;
  if (!config.trustProxy) return false;
  return request.headers.get("x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase() === "https";
}

/**
 * The Set-Cookie headers that sign a browser in. HttpOnly: scripts cannot read it.
 * SameSite=Lax: other sites' forms and fetches do not carry it. Max-Age is the absolute
 * lifetime; the server also ends idle sessions. Over https a plain cookie left from before is
 * cleared, so the browser holds one session cookie.
 */
export function sessionCookie(token: string, config: Config, secure: boolean): string[] {
  const maxAge = config.sessionMaxDays * 24 * 60 * 60;
  const cookie = `${sessionCookieName(secure)}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax`;
  return secure ? [`${cookie}; Secure`, cleared(SESSION_COOKIE, true)] : [cookie];
}

/** The Set-Cookie headers that sign a browser out: every name the session may have had here. */
export function clearedCookie(secure: boolean): string[] {
  return secure
    ? [cleared(SECURE_SESSION_COOKIE, true), cleared(SESSION_COOKIE, true)]
    : [cleared(SESSION_COOKIE, false)];
}

const cleared = (name: string, secure: boolean) =>
  `${name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;

/**
 * The client's address, for throttling sign-ins. Behind a trusted proxy it is the last address
 * the proxy appended to X-Forwarded-For (earlier entries are whatever the client claimed).
 */
export function clientAddress(
  request: Request,
  server: { requestIP(r: Request): { address: string } | null } | null,
  config: Config,
): string {
  if (config.trustProxy) {
    const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  return server?.requestIP(request)?.address ?? "unknown";
}
