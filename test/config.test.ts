import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig, publicUrl, redactUrl } from "../src/config.ts";
import { describeSettings } from "../src/config-help.ts";
import { REQUIRED_SETTINGS } from "./support/settings.ts";

describe("configuration", () => {
  test("an empty environment gives the documented defaults and the embedded database", () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe("127.0.0.1");
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe("./data");
    expect(config.openrouterBaseUrl).toBe("https://openrouter.ai/api/v1");
    expect(config.logLevel).toBe("info");
    expect(config.socketPingInterval).toBe(25_000);
    expect(publicUrl(config)).toBe("http://127.0.0.1:3000");
  });

  test("values are read and normalised", () => {
    const config = loadConfig({
      PORT: " 8080 ",
      DATABASE_URL: "postgresql://u:p@db:5432/parley",
      OPENROUTER_BASE_URL: "http://127.0.0.1:9000/v1/",
      LOG_LEVEL: "WARN",
      LOG_FORMAT: "json",
      PUBLIC_URL: "https://chat.example.com/",
    });
    expect(config.port).toBe(8080);
    expect(config.databaseUrl).toBe("postgresql://u:p@db:5432/parley");
    expect(config.openrouterBaseUrl).toBe("http://127.0.0.1:9000/v1");
    expect(config.logLevel).toBe("warn");
    expect(config.logFormat).toBe("json");
    expect(publicUrl(config)).toBe("https://chat.example.com");
  });

  const bad: [Record<string, string>, string, RegExp][] = [
    [{ PORT: "abc" }, "PORT", /PORT must be a whole number from 0 to 65535 \(got "abc"\)/],
    [{ PORT: "70000" }, "PORT", /PORT must be a whole number/],
    [{ PORT: "3000.5" }, "PORT", /PORT must be a whole number/],
    [{ DATABASE_URL: "mysql://x@y/z" }, "DATABASE_URL", /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ DATABASE_URL: "not a url" }, "DATABASE_URL", /DATABASE_URL must be a postgres:\/\/ URL/],
    [{ OPENROUTER_BASE_URL: "ftp://x" }, "OPENROUTER_BASE_URL", /OPENROUTER_BASE_URL must be an http/],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL", /LOG_LEVEL must be one of debug, info, warn, error/],
    [{ PUBLIC_URL: "chat.example.com" }, "PUBLIC_URL", /PUBLIC_URL must be an http/],
    [{ SHUTDOWN_TIMEOUT_MS: "-1" }, "SHUTDOWN_TIMEOUT_MS", /SHUTDOWN_TIMEOUT_MS must be a whole number/],
    [{ SOCKET_PING_INTERVAL_MS: "100" }, "SOCKET_PING_INTERVAL_MS", /from 500 to 100000 \(got "100"\)/],
  ];
  for (const [env, name, message] of bad) {
    test(`a bad ${name} (${Object.values(env)[0]}) is refused with a sentence naming it`, () => {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(message);
    });
  }

  test("a malformed DATABASE_URL is quoted without its password", () => {
    expect(() => loadConfig({ DATABASE_URL: "mysql://admin:hunter2@db/x" })).toThrow(/admin:\*\*\*@db/);
    expect(() => loadConfig({ DATABASE_URL: "mysql://admin:hunter2@db/x" })).not.toThrow(/hunter2/);
  });

  test("the settings table lists every variable with its default and never shows a secret", () => {
    const table = describeSettings({
      OPENROUTER_API_KEY: "sk-or-secret-value",
      DATABASE_URL: "postgres://u:pw@h/d",
      PORT: "4000",
    });
    for (const name of REQUIRED_SETTINGS) {
      expect(table).toContain(name);
    }
    expect(table).toContain("default: 3000 [now: 4000]");
    expect(table).toContain("default: ./data");
    expect(table).not.toContain("sk-or-secret-value");
    expect(table).not.toContain("pw@");
    expect(table).toMatch(/OPENROUTER_API_KEY [\s\S]*?\(secret\)\n +default: unset \[set\]/);
  });

  test("redactUrl hides a password and leaves the rest", () => {
    expect(redactUrl("postgres://me:secret@localhost:5432/db")).toBe("postgres://me:***@localhost:5432/db");
    expect(redactUrl("postgres://localhost/db")).toBe("postgres://localhost/db");
  });
});
