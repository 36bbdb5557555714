/** How each setting's text becomes a value, or a ConfigError naming the variable (see config.ts). */

export class ConfigError extends Error {}

export function integer(min: number, max: number, fallback: number) {
  return (raw: string | undefined, name: string): number => {
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw.trim());
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new ConfigError(`${name} must be a whole number from ${min} to ${max} (got "${raw}").`);
    }
    return value;
  };
}

export function oneOf<const T extends readonly string[]>(choices: T, fallback: T[number]) {
  return (raw: string | undefined, name: string): T[number] => {
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = raw.trim().toLowerCase();
    if (!choices.includes(value)) {
      throw new ConfigError(`${name} must be one of ${choices.join(", ")} (got "${raw}").`);
    }
    return value as T[number];
  };
}

/** An http(s) URL without its trailing slashes; `exact` keeps it as written (an OpenID issuer must match to the character). */
export function httpUrl(fallback: string | undefined, { exact = false } = {}) {
  return (raw: string | undefined, name: string): string | undefined => {
    const value = raw?.trim() || fallback;
    if (value === undefined) return undefined;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(`${name} must be an http:// or https:// URL (got "${value}").`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new ConfigError(`${name} must be an http:// or https:// URL (got "${value}").`);
    }
    return exact ? value : value.replace(/\/+$/, "");
  };
}

export function boolean(fallback: boolean) {
  return (raw: string | undefined, name: string): boolean => {
    const value = raw?.trim().toLowerCase();
    if (!value) return fallback;
    if (["true", "1", "yes"].includes(value)) return true;
    if (["false", "0", "no"].includes(value)) return false;
    throw new ConfigError(`${name} must be true or false (got "${raw}").`);
  };
}

export function text(fallback: string | undefined) {
  return (raw: string | undefined): string | undefined => raw?.trim() || fallback;
}

/** Accepts `postgres://` and `postgresql://` URLs with a host; unset means the embedded database. */
export function databaseUrl(raw: string | undefined, name: string): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "postgres:" && url.protocol !== "postgresql:") || !url.hostname) {
    throw new ConfigError(
      `${name} must be a postgres:// URL such as postgres://user:password@localhost:5432/parley ` +
        `(got "${redactUrl(value)}"); leave it unset to use the embedded database.`,
    );
  }
  return value;
}

/** OAuth scopes, space-separated; OpenID Connect needs `openid` among them. */
export function scopes(fallback: string) {
  return (raw: string | undefined, name: string): string => {
    const value = (raw?.trim() || fallback).split(/\s+/).join(" ");
    if (!value.split(" ").includes("openid")) {
      throw new ConfigError(`${name} must include openid (got "${raw}").`);
    }
    return value;
  };
}

/**
 * `provider group=Parley group` pairs, comma-separated: "/engineering=Engineers, sales=Sales".
 * A provider's group may map to several Parley groups (one pair each).
 */
export function groupMap(raw: string | undefined, name: string): { from: string; to: string }[] {
  if (!raw?.trim()) return [];
  return raw
    .split(",")
    .filter((pair) => pair.trim())
    .map((pair) => {
      const at = pair.lastIndexOf("=");
      const from = pair.slice(0, at).trim();
      const to = pair.slice(at + 1).trim();
      if (at < 0 || !from || !to) {
        throw new ConfigError(
          `${name} must be pairs like "provider group=Parley group", separated by commas (got "${pair.trim()}").`,
        );
      }
      return { from, to };
    });
}

/** Drops the password from a connection URL so it can be shown or logged. */
export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return value.replace(/\/\/([^:@/]+):[^@/]*@/, "//$1:***@");
  }
}
