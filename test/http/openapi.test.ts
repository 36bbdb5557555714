import { afterAll, beforeAll, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import pkg from "../../package.json";
import { messages } from "../../src/db/schema.ts";
import { OPENAPI_PATH } from "../../src/http/openapi.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { freshDatabase, type TestDb } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

type Operation = {
  summary?: string;
  tags?: string[];
  security?: unknown[];
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};
type Spec = { openapi: string; info: { version: string }; paths: Record<string, Record<string, Operation>> };

let fake: FakeUpstream;
let t: TestDb;
let server: TestServer;
let chatId: string;
let spec: Spec;

beforeAll(async () => {
  fake = startFakeUpstream();
  // The spec does not depend on the driver: one is enough.
  t = await freshDatabase("pglite");
  server = await startTestServer(t, fakeEnv(fake));
  // A chat with a finished answer, so that its routes answer with real content.
  const made = await server.fetch("/chats", {
    method: "POST",
    body: new URLSearchParams({ content: "Something to export", model: "fake/fast" }),
  });
  chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
  for (let i = 0; i < 400; i++) {
    const [answer] = await t.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.chatId, chatId), eq(messages.role, "assistant")));
    if (answer?.status === "complete") break;
    await Bun.sleep(25);
  }
  const res = await fetch(server.url + OPENAPI_PATH);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("application/json");
  spec = await res.json();
});
afterAll(async () => {
  await server.stop();
  await t.close();
  fake.stop();
});

type Schema = {
  type?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: Schema[];
  required?: string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  items?: Schema;
};

/** Where `value` breaks a JSON Schema, for the parts of it the spec uses; empty when it conforms. */
function violations(schema: Schema, value: unknown, at = "$"): string[] {
  if (schema.anyOf) {
    return schema.anyOf.some((s) => violations(s, value, at).length === 0) ? [] : [`${at}: matches no anyOf`];
  }
  if ("const" in schema && value !== schema.const) return [`${at}: not ${JSON.stringify(schema.const)}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: not one of ${schema.enum.join(", ")}`];
  const kind = value === null ? "null" : Array.isArray(value) ? "array" : typeof value;
  const fits = schema.type === "integer" ? Number.isInteger(value) : !schema.type || schema.type === kind;
  if (!fits) return [`${at}: ${kind}, not ${schema.type}`];
  if (kind === "array" && schema.items) {
    return (value as unknown[]).flatMap((v, i) => violations(schema.items!, v, `${at}[${i}]`));
  }
  if (kind !== "object") return [];
  const object = value as Record<string, unknown>;
  const problems = (schema.required ?? []).filter((k) => !(k in object)).map((k) => `${at}.${k}: missing`);
  for (const [key, v] of Object.entries(object)) {
    const property = schema.properties?.[key];
    if (property) problems.push(...violations(property, v, `${at}.${key}`));
    else if (schema.additionalProperties === false) problems.push(`${at}.${key}: not allowed`);
  }
  return problems;
}

const operations = () =>
  Object.entries(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
/** `/chats/{id}/export.json` as a request path, with this test's chat. */
const requestPath = (path: string) => path.replace("{id}", chatId);

test("the spec is served to anyone at /openapi.json, as OpenAPI 3.1 with Parley's version", () => {
  expect(spec.openapi).toStartWith("3.1");
  expect(spec.info.version).toBe(pkg.version);
});

test("every route the spec lists exists and answers what it documents, checked against its schema", async () => {
  expect(operations().length).toBeGreaterThan(0);
  for (const { method, path, op } of operations()) {
    expect({ path, summary: typeof op.summary, tags: op.tags?.length }).toEqual({ path, summary: "string", tags: 1 });
    const res = await server.fetch(requestPath(path), { method });
    const documented = op.responses?.[String(res.status)];
    expect({ method, path, status: res.status, documented: !!documented }).toEqual({
      method,
      path,
      status: 200,
      documented: true,
    });
    const [type, media] = Object.entries(documented!.content ?? {})[0] ?? [];
    expect({ path, type: res.headers.get("content-type")?.split(";")[0] }).toEqual({ path, type });
    const body = await res.json();
    if (!media?.schema) continue;
    const schema = media.schema as Schema;
    expect({ path, problems: violations(schema, body) }).toEqual({ path, problems: [] });
    // The check can fail: without a field the schema requires, the same body does not conform.
    const required = schema.required?.[0];
    expect(required).toBeDefined();
    const { [required!]: _, ...without } = body;
    expect(violations(schema, without)).toEqual([`$.${required}: missing`]);
  }
});

test("every route that answers JSON is in the spec, so a new one cannot be left out", async () => {
  const answersJson: string[] = [];
  for (const route of server.app.routes) {
    // The spec does not describe itself.
    if (route.method !== "GET" || route.path === OPENAPI_PATH) continue;
    const res = await server.fetch(route.path.replace(":id", chatId));
    const type = res.headers.get("content-type") ?? "";
    await res.arrayBuffer();
    if (res.ok && /\bjson\b/.test(type)) answersJson.push(`GET ${route.path}`);
  }
  const listed = operations().map(({ method, path }) => `${method} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
  expect(answersJson.length).toBeGreaterThan(0);
  expect(listed.sort()).toEqual(answersJson.sort());
});

test("the spec says which routes need the session cookie", () => {
  const needSession = operations()
    .filter(({ op }) => op.security)
    .map(({ path }) => path);
  expect(needSession.sort()).toEqual(["/account/export.json", "/chats/{id}/export.json"]);
});
