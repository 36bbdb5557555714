/** Session tokens: what the cookie holds, and the SHA-256 the database keeps instead. */

const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** Whether a cookie's value could be a token at all (checked before any query). */
export const isToken = (token: string) => TOKEN.test(token);

/** 32 random bytes: the cookie holds the token, the database only its SHA-256. */
export function newToken(): { token: string; tokenHash: string } {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
  return { token, tokenHash: hashToken(token) };
}

export function hashToken(token: string): string {
  return new Bun.CryptoHasher("sha256").update(token).digest("hex");
}
