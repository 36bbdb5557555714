/**
 * Every setting Parley reads, in one table: name, type, default, whether it is secret, and what it
 * means. The environment is parsed once at start; a bad value stops the start with one sentence
 * that names the variable.
 */

import { boolean, ConfigError, databaseUrl, groupMap, httpUrl, integer, oneOf, scopes, text } from "./config-parse.ts";

export { ConfigError, redactUrl } from "./config-parse.ts";

export type Setting<T> = {
  /** Environment variable. */
  name: string;
  /** Shown in `--help`; `undefined` means "unset". */
  default: string | undefined;
  secret: boolean;
  description: string;
  parse: (raw: string | undefined, name: string) => T;
};

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const LOG_FORMATS = ["auto", "json", "pretty"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = Exclude<(typeof LOG_FORMATS)[number], "auto">;

export const settings = {
  port: {
    name: "PORT",
    default: "3000",
    secret: false,
    description: "TCP port the web server listens on (0 picks a free one and logs it).",
    parse: integer(0, 65535, 3000),
  },
  host: {
    name: "HOST",
    default: "127.0.0.1",
    secret: false,
    description: "Address to listen on; 0.0.0.0 accepts connections from other machines.",
    parse: (raw: string | undefined) => raw?.trim() || "127.0.0.1",
  },
  databaseUrl: {
    name: "DATABASE_URL",
    default: undefined,
    secret: true,
    description: "postgres:// URL of a Postgres server; unset uses the embedded database in DATA_DIR.",
    parse: databaseUrl,
  },
  dataDir: {
    name: "DATA_DIR",
    default: "./data",
    secret: false,
    description: "Folder where the embedded database keeps its files.",
    parse: (raw: string | undefined) => raw?.trim() || "./data",
  },
  dataCacheMb: {
    name: "DATA_CACHE_MB",
    default: "32",
    secret: false,
    description:
      "The embedded database's page cache (Postgres's shared_buffers) in MB. Taken whole at start (what is still empty goes back to the system once the server is quiet) and held as it fills, so each MB can add one to Parley's memory. At 16, a search of two words over 100,000 messages took 45 ms against 24-29 at 32.",
    parse: integer(1, 1024, 32),
  },
  openrouterApiKey: {
    name: "OPENROUTER_API_KEY",
    default: undefined,
    secret: true,
    description: "API key for OpenRouter (or the server at OPENROUTER_BASE_URL).",
    parse: text(undefined),
  },
  openrouterBaseUrl: {
    name: "OPENROUTER_BASE_URL",
    default: "https://openrouter.ai/api/v1",
    secret: false,
    description: "Base URL of the OpenAI-compatible API that answers.",
    parse: (raw: string | undefined, name: string) => httpUrl("https://openrouter.ai/api/v1")(raw, name) as string,
  },
  defaultModel: {
    name: "DEFAULT_MODEL",
    default: "openrouter/auto",
    secret: false,
    description: "Model new chats start with.",
    parse: (raw: string | undefined) => raw?.trim() || "openrouter/auto",
  },
  upstreamStallTimeout: {
    name: "UPSTREAM_STALL_TIMEOUT_MS",
    default: "60000",
    secret: false,
    description: "An answer that sends nothing (not even a keep-alive) for this long is given up as an error.",
    parse: integer(1000, 3_600_000, 60_000),
  },
  upstreamMaxRetries: {
    name: "UPSTREAM_MAX_RETRIES",
    default: "3",
    secret: false,
    description:
      "Retries, with backoff, of a request that failed before its first token (408, 429, 502, 503, network).",
    parse: integer(0, 10, 3),
  },
  logLevel: {
    name: "LOG_LEVEL",
    default: "info",
    secret: false,
    description: "Least severe log level written: debug, info, warn or error.",
    parse: oneOf(LOG_LEVELS, "info"),
  },
  logFormat: {
    name: "LOG_FORMAT",
    default: "auto",
    secret: false,
    description: "json, pretty, or auto (pretty on a terminal, json otherwise).",
    parse: (raw: string | undefined, name: string): LogFormat => {
      const value = oneOf(LOG_FORMATS, "auto")(raw, name);
      if (value !== "auto") return value;
      return process.stdout.isTTY ? "pretty" : "json";
    },
  },
  publicUrl: {
    name: "PUBLIC_URL",
    default: undefined,
    secret: false,
    description: "URL people use to reach Parley (e.g. https://chat.example.com); defaults to http://HOST:PORT.",
    parse: httpUrl(undefined),
  },
  trustProxy: {
    name: "TRUST_PROXY",
    default: "false",
    secret: false,
    description:
      "true when Parley sits behind a reverse proxy: the client address and https come from X-Forwarded-For and X-Forwarded-Proto.",
    parse: boolean(false),
  },
  oidcIssuer: {
    name: "OIDC_ISSUER",
    default: undefined,
    secret: false,
    description:
      "Issuer URL of an OpenID Connect provider, exactly as it gives it (e.g. https://sso.example.com/realms/acme); set, people can sign in with it (docs/sso.md).",
    parse: httpUrl(undefined, { exact: true }),
  },
  oidcClientId: {
    name: "OIDC_CLIENT_ID",
    default: undefined,
    secret: false,
    description: "The client id Parley has at the provider.",
    parse: text(undefined),
  },
  oidcClientSecret: {
    name: "OIDC_CLIENT_SECRET",
    default: undefined,
    secret: true,
    description: "The client's secret at the provider; unset for a public client (PKCE only).",
    parse: text(undefined),
  },
  oidcScopes: {
    name: "OIDC_SCOPES",
    default: "openid profile email",
    secret: false,
    description: "Scopes asked of the provider, space-separated; add the one that brings groups if yours needs it.",
    parse: scopes("openid profile email"),
  },
  oidcLabel: {
    name: "OIDC_LABEL",
    default: "SSO",
    secret: false,
    description: 'The provider\'s name on the sign-in button: "Sign in with Keycloak".',
    parse: (raw: string | undefined) => raw?.trim().slice(0, 40) || "SSO",
  },
  oidcCreateAccounts: {
    name: "OIDC_CREATE_ACCOUNTS",
    default: "true",
    secret: false,
    description:
      "true: a first sign-in with the provider creates the account; false: only accounts already linked (from the account page) may sign in with it.",
    parse: boolean(true),
  },
  oidcGroupsClaim: {
    name: "OIDC_GROUPS_CLAIM",
    default: "groups",
    secret: false,
    description: "The ID token or userinfo claim that lists a person's groups at the provider.",
    parse: (raw: string | undefined) => raw?.trim() || "groups",
  },
  oidcAdminGroup: {
    name: "OIDC_ADMIN_GROUP",
    default: undefined,
    secret: false,
    description:
      "The provider's group whose members are Parley admins; set, it decides at each sign-in with the provider who is admin.",
    parse: text(undefined),
  },
  oidcGroupMap: {
    name: "OIDC_GROUP_MAP",
    default: undefined,
    secret: false,
    description:
      'Provider groups to Parley groups, "provider group=Parley group" pairs separated by commas; membership of each named Parley group follows the provider at each sign-in.',
    parse: groupMap,
  },
  passwordSignIn: {
    name: "PASSWORD_SIGN_IN",
    default: "true",
    secret: false,
    description: "false: the sign-in page offers only the provider (OIDC_ISSUER), and passwords are refused.",
    parse: boolean(true),
  },
  sessionIdleDays: {
    name: "SESSION_IDLE_DAYS",
    default: "14",
    secret: false,
    description: "A session not used for this many days ends; the person signs in again.",
    parse: integer(1, 3650, 14),
  },
  sessionMaxDays: {
    name: "SESSION_MAX_DAYS",
    default: "60",
    secret: false,
    description: "A session ends this many days after sign-in, however much it is used.",
    parse: integer(1, 3650, 60),
  },
  auditRetentionDays: {
    name: "AUDIT_RETENTION_DAYS",
    default: "365",
    secret: false,
    description:
      "Entries of the audit log (sign-ins, admin actions, keys, shared links) are deleted after this many days.",
    parse: integer(1, 36500, 365),
  },
  sendsPerMinute: {
    name: "SENDS_PER_MINUTE",
    default: "20",
    secret: false,
    description: "Messages one person may send (or answers retry) per minute.",
    parse: integer(1, 100_000, 20),
  },
  apiRequestsPerMinute: {
    name: "API_REQUESTS_PER_MINUTE",
    default: "60",
    secret: false,
    description: "Requests one personal API key may make to the OpenAI-compatible API (/v1) per minute.",
    parse: integer(1, 100_000, 60),
  },
  maxConcurrentAnswers: {
    name: "MAX_CONCURRENT_ANSWERS",
    default: "3",
    secret: false,
    description: "Answers one person may have being written at once, across all their chats.",
    parse: integer(1, 100_000, 3),
  },
  socketPingInterval: {
    name: "SOCKET_PING_INTERVAL_MS",
    default: "25000",
    secret: false,
    description:
      "Each open tab's WebSocket is pinged this often, so a proxy's idle timeout above it never cuts a quiet tab; a tab that answers nothing for two intervals is closed as gone.",
    parse: integer(500, 100_000, 25_000),
  },
  socketsPerPerson: {
    name: "SOCKETS_PER_PERSON",
    default: "50",
    secret: false,
    description:
      "WebSockets (one per open tab) one person may have open at once on this instance, across their devices; one more is closed with a sentence saying why.",
    parse: integer(1, 100_000, 50),
  },
  temporaryChatHours: {
    name: "TEMPORARY_CHAT_HOURS",
    default: "24",
    secret: false,
    description:
      "A temporary chat (never listed, searched, exported or shared) is deleted this many hours after it was made, if its person has not left it before.",
    parse: integer(1, 8760, 24),
  },
  temporaryChatGrace: {
    name: "TEMPORARY_CHAT_GRACE_SECONDS",
    default: "45",
    secret: false,
    description:
      "A temporary chat that no tab shows, on any instance, for this long is taken as left and deleted (once no answer is being written in it); long enough that a reload keeps it.",
    parse: integer(1, 3600, 45),
  },
  maxFileMb: {
    name: "MAX_FILE_MB",
    default: "20",
    secret: false,
    description: "The largest file a person may attach, in MB (MiB); one upload may carry at most this much.",
    parse: integer(1, 512, 20),
  },
  maxFilesPerMessage: {
    name: "MAX_FILES_PER_MESSAGE",
    default: "10",
    secret: false,
    description: "Files one message may carry, and one upload.",
    parse: integer(1, 100, 10),
  },
  storagePerPersonMb: {
    name: "STORAGE_PER_PERSON_MB",
    default: "1024",
    secret: false,
    description:
      "How much one person's files may take in all, in MB (MiB; 1024 is 1 GB); the same file twice counts once.",
    parse: integer(1, 1_048_576, 1024),
  },
  webSearchEngine: {
    name: "WEB_SEARCH_ENGINE",
    default: "auto",
    secret: false,
    description:
      "Which engine OpenRouter's web search uses when a message has Search the web on: auto (the model's own search where it has one, else Exa), native, exa or parallel.",
    parse: oneOf(["auto", "native", "exa", "parallel"] as const, "auto"),
  },
  webSearchResults: {
    name: "WEB_SEARCH_RESULTS",
    default: "5",
    secret: false,
    description: "How many results one web search brings back (OpenRouter charges per result).",
    parse: integer(1, 25, 5),
  },
  toolCallsPerAnswer: {
    name: "TOOL_CALLS_PER_ANSWER",
    default: "10",
    secret: false,
    description: "Tool calls (over MCP) one answer may make; past it the model is told to answer with what it has.",
    parse: integer(1, 100, 10),
  },
  toolCallTimeout: {
    name: "TOOL_CALL_TIMEOUT_MS",
    default: "30000",
    secret: false,
    description: "How long one tool call may take before it is given up and the model told so.",
    parse: integer(100, 600_000, 30_000),
  },
  toolResultKb: {
    name: "TOOL_RESULT_KB",
    default: "100",
    secret: false,
    description:
      "The most of a tool's result given to the model, in KB (KiB); the rest is cut off and the model told so.",
    parse: integer(1, 10_240, 100),
  },
  metricsToken: {
    name: "METRICS_TOKEN",
    default: undefined,
    secret: true,
    description: "Bearer token that lets Prometheus read /metrics from elsewhere; unset, only this machine may.",
    parse: text(undefined),
  },
  shutdownTimeout: {
    name: "SHUTDOWN_TIMEOUT_MS",
    default: "5000",
    secret: false,
    description: "How long a graceful shutdown may take before the process exits anyway.",
    parse: integer(0, 600_000, 5000),
  },
} satisfies Record<string, Setting<unknown>>;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: ReturnType<Settings[K]["parse"]> };

/** Parses the environment into a Config, or throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const config = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(settings) as [keyof Settings, Setting<unknown>][]) {
    config[key] = setting.parse(env[setting.name], setting.name);
  }
  if (config.oidcIssuer && !config.oidcClientId) {
    throw new ConfigError("OIDC_ISSUER is set but OIDC_CLIENT_ID is not: single sign-on needs both.");
  }
  if (!config.passwordSignIn && !config.oidcIssuer) {
    throw new ConfigError("PASSWORD_SIGN_IN=false needs OIDC_ISSUER: otherwise nobody could sign in.");
  }
  return config as Config;
}

/** The URL people reach Parley at, for links and Origin checks. */
export function publicUrl(config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${config.port}`;
}
