/** The settings the foundation issue requires every build to offer. */
export const REQUIRED_SETTINGS = [
  "PORT",
  "HOST",
  "DATABASE_URL",
  "DATA_DIR",
  "OPENROUTER_API_KEY",
  "OPENROUTER_BASE_URL",
  "DEFAULT_MODEL",
  "LOG_LEVEL",
  "PUBLIC_URL",
];
