import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messageFiles, messages, shareFiles, shares } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { file, pdf, png, text } from "../files/samples.ts";
import { upload, uploaded } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const TOKEN_IN_PAGE = /value="http:\/\/127\.0\.0\.1:\d+\/s\/([A-Za-z0-9_-]+)"/;
const SHARE_ID = /data-share="([0-9a-f-]+)"/;
const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";
const FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

/** The file ids a shared page links under its own address, in order (an image twice: its link and its img). */
const linkedFiles = (html: string, token: string) =>
  [...html.matchAll(new RegExp(`(?:href|src)="/s/${token}/files/([0-9a-f-]+)"`, "g"))].map((m) => m[1]!);

eachDriver("a shared snapshot's files", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob-the-reader");
  });
  afterAll(() => server.stop());

  const store = async (who: Person, sent: File[]): Promise<FileInfo[]> => {
    const res = await uploaded(await upload(who, sent));
    expect(res.status).toBe(200);
    return res.files!;
  };
  /** A chat whose first question carries these files, with an answer; stored as the app stores them. */
  const chatWith = async (who: Person, attached: FileInfo[], title = "Files chat") => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: who.user.id, title, model: "fake/fast" })
      .returning();
    const question = Bun.randomUUIDv7();
    await t.database.db.insert(messages).values([
      { id: question, chatId: chat!.id, role: "user", content: "What is in these?" },
      {
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        parentId: question,
        role: "assistant",
        content: "Bread.",
        html: "<p>Bread.</p>",
      },
    ]);
    if (attached.length) {
      await t.database.db
        .insert(messageFiles)
        .values(attached.map((f, position) => ({ messageId: question, fileId: f.id, position })));
    }
    return chat!.id;
  };
  const share = async (who: Person, chatId: string) => {
    const res = await who.fetch(`/chats/${chatId}/shares`, { method: "POST" });
    expect(res.status).toBe(200);
    const html = await res.text();
    return { token: TOKEN_IN_PAGE.exec(html)![1]!, id: SHARE_ID.exec(html)![1]! };
  };
  /** As someone signed out gets it. */
  const get = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { redirect: "manual", ...init });

  test("the shared page shows the files and serves its own copies, byte for byte, with the files' headers", async () => {
    const bytes = [png(8, 6, 3), pdf("Shared figures"), text("Shared notes.\n")];
    const sent = await store(server, [
      file(bytes[0]!, "loaf.png"),
      file(bytes[1]!, "figures.pdf"),
      file(bytes[2]!, "notes.txt"),
    ]);
    const chatId = await chatWith(server, sent);
    const { token } = await share(server, chatId);

    const page = await (await get(`/s/${token}`)).text();
    const ids = linkedFiles(page, token);
    // The image is a thumbnail (link and img), the others a download each; none is the owner's /files/ id.
    expect(ids).toHaveLength(4);
    expect(page).toContain(`alt="loaf.png"`);
    expect(page).toContain(`download="figures.pdf"`);
    expect(page).toContain(`download="notes.txt"`);
    expect(page).not.toContain('"/files/');
    for (const f of sent) expect(page).not.toContain(f.id);

    const [image, , paper, notes] = ids;
    for (const [id, expected, type, disposition] of [
      [image, bytes[0], "image/png", 'inline; filename="loaf.png"'],
      [paper, bytes[1], "application/pdf", 'attachment; filename="figures.pdf"'],
      [notes, bytes[2], "text/plain; charset=utf-8", 'attachment; filename="notes.txt"'],
    ] as const) {
      const res = await get(`/s/${token}/files/${id}`);
      expect([res.status, res.headers.get("content-type")]).toEqual([200, type]);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(expected!));
      expect(res.headers.get("content-disposition")).toBe(disposition);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toBe(FILE_CSP);
      // As the shared page: no referrer, not indexed, never cached (a revoked link must not live on).
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-robots-tag")).toBe("noindex");
    }
    // The owner's own address still serves the owner alone.
    expect((await get(`/files/${sent[0]!.id}`)).status).toBe(303);
  });

  test("a file is served only through the snapshot that holds it: not another's, not an owner's id, not a made-up one", async () => {
    const [mine] = await store(server, [file(png(5, 5, 11), "private.png")]);
    const [other] = await store(server, [file(png(5, 5, 12), "other.png")]);
    const { token } = await share(server, await chatWith(server, [mine!]));
    const second = await share(server, await chatWith(server, [other!], "Second chat"));
    const [id] = linkedFiles(await (await get(`/s/${token}`)).text(), token);
    const [otherId] = linkedFiles(await (await get(`/s/${second.token}`)).text(), second.token);
    expect((await get(`/s/${token}/files/${id}`)).status).toBe(200);

    const missing = await get(`/s/${token}/files/${UNKNOWN_ID}`);
    const missingBody = await missing.text();
    expect([missing.status, missingBody]).toEqual([404, "There is no such file."]);
    for (const path of [
      `/s/${token}/files/${otherId}`, // another snapshot's file
      `/s/${second.token}/files/${id}`, // this file, through the other link
      `/s/${token}/files/${mine!.id}`, // the owner's id of the file itself
      `/s/${"A".repeat(32)}/files/${id}`, // a link never made
      `/s/short/files/${id}`,
      `/s/${token}/files/not-an-id`,
      `/s/${token}/files/${id}/../${otherId}`,
    ]) {
      const res = await get(path);
      expect([path, res.status]).toEqual([path, 404]);
      if (res.headers.get("content-type")?.startsWith("text/plain")) expect(await res.text()).not.toContain("PNG");
    }
    // Another person, signed in, fares no better with the owner's address.
    expect((await bob.fetch(`/files/${mine!.id}`)).status).toBe(404);
  });

  test("revoking the link, or deleting the chat, makes its files unreachable", async () => {
    const [kept] = await store(server, [file(pdf("Soon gone"), "gone.pdf")]);
    const chatId = await chatWith(server, [kept!]);
    const revoked = await share(server, chatId);
    const deleted = await share(server, chatId);
    const [a] = linkedFiles(await (await get(`/s/${revoked.token}`)).text(), revoked.token);
    const [b] = linkedFiles(await (await get(`/s/${deleted.token}`)).text(), deleted.token);
    expect(a).not.toBe(b); // each snapshot names its own copy
    expect((await get(`/s/${revoked.token}/files/${a}`)).status).toBe(200);

    expect((await server.fetch(`/shares/${revoked.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await get(`/s/${revoked.token}/files/${a}`)).status).toBe(404);
    expect((await get(`/s/${deleted.token}/files/${b}`)).status).toBe(200);

    expect((await server.fetch(`/chats/${chatId}`, { method: "DELETE" })).status).toBe(204);
    expect((await get(`/s/${deleted.token}/files/${b}`)).status).toBe(404);
    expect(await t.database.db.select().from(shares).where(eq(shares.chatId, chatId))).toEqual([]);
    expect(await t.database.db.select().from(shareFiles).where(eq(shareFiles.fileId, kept!.id))).toEqual([]);
  });

  test("an answer's files (images a model made) are shown under its words and served too", async () => {
    const made = png(9, 9, 33);
    const [image] = await store(server, [file(made, "drawn.png")]);
    const chatId = await chatWith(server, [], "Drawn");
    const answer = (
      await t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(messages.id)
    )[1];
    await t.database.db.insert(messageFiles).values({ messageId: answer!.id, fileId: image!.id, position: 0 });
    const { token } = await share(server, chatId);
    const page = await (await get(`/s/${token}`)).text();
    const [id] = linkedFiles(page, token);
    expect(page.indexOf("<p>Bread.</p>")).toBeLessThan(page.indexOf(`/s/${token}/files/${id}`));
    expect(page.indexOf('data-role="assistant"')).toBeLessThan(page.indexOf("<p>Bread.</p>"));
    const res = await get(`/s/${token}/files/${id}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(made));
  });

  test("deleting another chat that held the same file leaves the snapshot's copy alone", async () => {
    const [both] = await store(server, [file(png(6, 6, 21), "both.png")]);
    const sharedChat = await chatWith(server, [both!], "Shared");
    const { token } = await share(server, sharedChat);
    const [id] = linkedFiles(await (await get(`/s/${token}`)).text(), token);
    // The shared chat's message no longer holds the file (as when an answer is retried), another chat does.
    await t.database.db.delete(messageFiles).where(eq(messageFiles.fileId, both!.id));
    const other = await chatWith(server, [both!], "Other");
    expect((await server.fetch(`/chats/${other}`, { method: "DELETE" })).status).toBe(204);
    const res = await get(`/s/${token}/files/${id}`);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(new Uint8Array(png(6, 6, 21)));
  });

  test("the snapshot keeps the files as published: a file attached later, or to another chat, is not in it", async () => {
    const [first, later] = await store(server, [
      file(text("first\n"), "first.txt"),
      file(text("later\n"), "later.txt"),
    ]);
    const chatId = await chatWith(server, [first!]);
    const { token } = await share(server, chatId);
    const before = await (await get(`/s/${token}`)).text();
    const [question] = await t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).limit(1);
    await t.database.db.insert(messageFiles).values({ messageId: question!.id, fileId: later!.id, position: 1 });
    const after = await (await get(`/s/${token}`)).text();
    expect(after).toBe(before);
    expect(after).not.toContain("later.txt");
    expect(linkedFiles(after, token)).toHaveLength(1);
    // The same file on two messages of one chat is one copy in its snapshot.
    const twice = await chatWith(server, [first!]);
    const answer = (
      await t.database.db.select().from(messages).where(eq(messages.chatId, twice)).orderBy(messages.id)
    )[1];
    const reply = Bun.randomUUIDv7();
    await t.database.db
      .insert(messages)
      .values({ id: reply, chatId: twice, parentId: answer!.id, role: "user", content: "Again" });
    await t.database.db.insert(messageFiles).values({ messageId: reply, fileId: first!.id, position: 0 });
    const both = await share(server, twice);
    const ids = linkedFiles(await (await get(`/s/${both.token}`)).text(), both.token);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(1);
  });
});
