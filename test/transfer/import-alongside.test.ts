import { afterAll, beforeAll, expect, test } from "bun:test";
import { once } from "node:events";
import { connect } from "node:net";
import { eq, sql } from "drizzle-orm";
import { chats } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf } from "../support/page-text.ts";
import { until } from "../support/process.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { chatsOf, rowCounts, upload } from "./support.ts";

// An import beside everything else the site does: it holds neither the database nor the memory
// of other imports' uploads for long.

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const BUSY = "Another import is being read; try again in a moment. Nothing was imported.";

/** A Parley file of `n` chats, each a question and a ~1 KB answer, twice. */
function file(n: number, title = "Chat"): string {
  const answer = "An answer with **some** Markdown, a `code` span and a list:\n\n- one\n- two\n\n".repeat(14);
  return JSON.stringify({
    format: "parley-chats",
    version: 1,
    chats: Array.from({ length: n }, (_, i) => ({
      title: `${title} ${i}`,
      model: "fake/fast",
      messages: [
        { role: "user", content: `Question ${i}?` },
        { role: "assistant", content: answer },
        { role: "user", content: "And then?" },
        { role: "assistant", content: answer },
      ],
    })),
  });
}

eachDriver("an import alongside other requests", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const countOwn = async (who: Person) =>
    (await t.database.db.select({ id: chats.id }).from(chats).where(eq(chats.userId, who.user.id))).length;

  test("chats are stored a group at a time, each whole: pages load between groups, and the chats appear part-way through", async () => {
    const ann = await server.signUp("ann");
    const bob = await server.signUp("bob");
    const N = 400; // about 2 MB: a dozen groups
    let done = false;
    const importing = upload(ann, file(N)).finally(() => {
      done = true;
    });
    const seen = new Set<number>();
    let pagesMeanwhile = 0;
    while (!done) {
      // Another person's page, and a statement of this test's own: each needs the database.
      const page = await bob.fetch("/");
      expect(page.status).toBe(200);
      if (!done) pagesMeanwhile++;
      const stored = await countOwn(ann);
      if (!done) seen.add(stored);
    }
    expect((await importing).status).toBe(303);
    expect(pagesMeanwhile).toBeGreaterThan(0);
    // Part-way: some chats stored, not all (in one transaction they would appear all at once).
    expect([...seen].some((n) => n > 0 && n < N)).toBe(true);
    // Each chat whole, in the file's order.
    const stored = await chatsOf(t, ann.user.id);
    expect(stored.map((c) => c.chat.title)).toEqual(Array.from({ length: N }, (_, i) => `Chat ${i}`));
    expect(stored.every((c) => c.messages.length === 4 && c.messages[3]!.html?.includes("<strong>some</strong>"))).toBe(
      true,
    );
  });

  test("a database failure part-way through leaves nothing of the import: the chats stored before it are removed", async () => {
    const eve = await server.signUp("eve");
    const before = await rowCounts(t);
    // The database refuses the 350th chat, after several groups went in.
    await t.database.rows(sql`
      create function refuse_chat() returns trigger language plpgsql as $$
      begin raise exception 'refused for the test'; end $$`);
    await t.database.rows(sql`
      create trigger refuse_chat before insert on chats for each row when (new.title = 'Doomed 349')
      execute function refuse_chat()`);
    try {
      const res = await upload(eve, file(400, "Doomed"));
      expect(res.status).toBe(500);
    } finally {
      await t.database.rows(sql`drop trigger refuse_chat on chats`);
      await t.database.rows(sql`drop function refuse_chat`);
    }
    expect(await countOwn(eve)).toBe(0);
    expect(await rowCounts(t)).toEqual(before);
  });

  test("one import at a time, the others refused before their upload is read: a body that never ends gets its answer", async () => {
    const ivy = await server.signUp("ivy");
    const joe = await server.signUp("joe");
    let first = partialUpload(server.url, ivy, 40 * 1024 * 1024);
    // Until the first holds the import's place (its request in, its body still coming), a small
    // import may still go through, or take the place first (then the first is refused: again).
    await until(
      async () => {
        if (first.answered()) {
          first.close();
          first = partialUpload(server.url, ivy, 40 * 1024 * 1024);
        }
        return alertOf(await (await upload(joe, file(1))).text());
      },
      (sentence) => sentence === BUSY,
      "an import refused while another's upload is read",
    );
    // Its body never ends either: the refusal cannot have waited for it.
    const second = partialUpload(server.url, joe, 40 * 1024 * 1024);
    const refused = await second.response;
    second.close();
    expect(refused.status).toBe(503);
    expect(alertOf(refused.body)).toBe(BUSY);
    const many = await Promise.all(Array.from({ length: 5 }, () => upload(joe, file(2))));
    expect(many.map((r) => r.status)).toEqual([503, 503, 503, 503, 503]);
    expect((await Promise.all(many.map(async (r) => alertOf(await r.text())))).every((s) => s === BUSY)).toBe(true);
    expect(await countOwn(ivy)).toBe(0);

    // The first upload is dropped part-way: its place is free again.
    first.close();
    await until(
      () => upload(ivy, file(3, "After")),
      (res) => res.status === 303,
      "an import once the dropped upload let go of its place",
    );
    expect((await chatsOf(t, ivy.user.id)).map((c) => c.chat.title)).toEqual(["After 0", "After 1", "After 2"]);
  });
});

/**
 * An import's request as a browser sends it, over a socket of its own, of which only the start of
 * the body is sent: the request is in, its body never ends (until closed). `response` resolves
 * with whatever the server answers meanwhile; `answered` says whether it did.
 */
function partialUpload(base: string, who: Person, length: number) {
  const url = new URL(base);
  const boundary = "----parley-test-boundary";
  const socket = connect(Number(url.port), url.hostname);
  const response = (async () => {
    await once(socket, "connect");
    const part = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.json"\r\nContent-Type: application/json\r\n\r\n`;
    socket.write(
      `POST /account/import HTTP/1.1\r\nHost: ${url.host}\r\nCookie: ${who.cookie}\r\nOrigin: ${base}\r\n` +
        `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${length}\r\n\r\n${part}[`,
    );
    socket.write("[".repeat(64 * 1024));
    let received = "";
    const decoder = new TextDecoder();
    for await (const chunk of socket) {
      received += decoder.decode(chunk, { stream: true });
      if (received.includes("</html>")) break; // the page, whole
    }
    return { status: Number(received.split(" ")[1]), body: received.slice(received.indexOf("\r\n\r\n") + 4) };
  })();
  let answered = false;
  response.then(
    () => (answered = true),
    () => (answered = true),
  );
  return { response, answered: () => answered, close: () => socket.destroy() };
}
