import type { Config } from "../config.ts";

export const SESSION_COOKIE = "parley_session";

/** The session token a request carries, if any. */
export function sessionToken(request: Request): string | undefined {
  const header = request.headers.get("cookie");
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
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
 * HttpOnly: scripts cannot read it. SameSite=Lax: other sites' forms and fetches do not carry it.
 * Max-Age is the absolute lifetime; the server also ends idle sessions.
 */
export function sessionCookie(token: string, config: Config, secure: boolean): string {
  const maxAge = config.sessionMaxDays * 24 * 60 * 60;
  return `${SESSION_COOKIE}=${token}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

export function clearedCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

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
