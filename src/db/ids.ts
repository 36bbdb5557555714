const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Ids arrive from URLs, forms and sockets; anything that is not a UUID names nothing. */
export function isId(value: unknown): value is string {
  return typeof value === "string" && UUID.test(value);
}
