import { afterAll, beforeAll, expect, test } from "bun:test";
import { gunzipSync } from "node:zlib";
import { chats, messages } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";

eachDriver("pages gzip'd", (t) => {
  let server: TestServer;
  let chatId: string;
  beforeAll(async () => {
    server = await startTestServer(t);
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Long one", model: "m" })
      .returning();
    chatId = chat!.id;
    let parentId: string | null = null;
    for (let i = 0; i < 40; i++) {
      const id: string = Bun.randomUUIDv7();
      await t.database.db
        .insert(messages)
        .values({ id, parentId, chatId, role: i % 2 ? "assistant" : "user", content: `Message number ${i}` });
      parentId = id;
    }
  });
  afterAll(() => server.stop());

  /** The bytes as they came over the wire (fetch would otherwise undo the gzip). */
  const raw = async (path: string, encoding: string) => {
    const res = await server.fetch(path, {
      headers: { "accept-encoding": encoding },
      decompress: false,
    } as RequestInit);
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };

  test("a page is sent gzip'd to a browser that takes it, as the same HTML, and plain to one that does not", async () => {
    const plain = await raw(`/chats/${chatId}`, "identity");
    expect(plain.res.headers.get("content-encoding")).toBeNull();
    expect(plain.res.headers.get("vary")).toContain("accept-encoding");
    const html = new TextDecoder().decode(plain.bytes);
    expect(html).toStartWith("<!doctype html>");
    expect(html).toContain("Message number 39");

    const zipped = await raw(`/chats/${chatId}`, "gzip, deflate, br");
    expect(zipped.res.status).toBe(200);
    expect(zipped.res.headers.get("content-encoding")).toBe("gzip");
    expect(zipped.res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(zipped.res.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(new TextDecoder().decode(gunzipSync(zipped.bytes))).toBe(html);
    expect(zipped.bytes.length).toBeLessThan(plain.bytes.length / 4);
  });

  test("pages with their own status and small fragments pass as they were", async () => {
    const missing = await raw(`/chats/${crypto.randomUUID()}`, "gzip");
    expect(missing.res.status).toBe(404);
    expect(missing.res.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(new TextDecoder().decode(missing.bytes)).toContain("There is no such chat.");
    const fragment = await raw("/search?q=nothingmatchesthis", "gzip");
    expect(fragment.res.status).toBe(200);
    expect(fragment.res.headers.get("content-encoding")).toBeNull();
    expect(new TextDecoder().decode(fragment.bytes)).toContain("No chat matches");
  });
});
