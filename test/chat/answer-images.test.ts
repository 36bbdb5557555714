import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { chats, files, messageFiles, messages } from "../../src/db/schema.ts";
import { imageOutput } from "../../src/llm/openrouter.ts";
import { FAKE_MODELS, FAKE_PAINTER, type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { file, png } from "../files/samples.ts";
import { storedFiles, upload, uploaded } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { finished, type TestSocket } from "../support/ws.ts";

/*
 * Answers with images: an image-output model streams its pictures in `delta.images` (see
 * test/llm/image-output.test.ts for the wire); Parley keeps each as a file of the chat's owner,
 * attached to the answer, shown in every tab as it arrives and after a reload, and served by
 * /files/<id> to the owner alone. Over HTTP and WebSockets, on both drivers.
 */

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, FAKE_PAINTER] });
});
afterAll(() => fake.stop());

/** The answer a fragment shows: a new one, or one written again (Retry). */
const assistantId = (html: string) =>
  /<article id="msg-([0-9a-f-]+)"(?: hx-swap-oob="true")? data-role="assistant"/.exec(html)?.[1];
const imgOf = (fileId: string) => `<img src="/files/${fileId}"`;
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const hex = (bytes: Uint8Array | ArrayBuffer) => Buffer.from(bytes as Uint8Array).toString("hex");

eachDriver("images in answers", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake, { MAX_FILES_PER_MESSAGE: "4", STORAGE_PER_PERSON_MB: "1" }));
    bob = await server.signUp("bob");
  });
  afterAll(() => server.stop());

  const newChat = async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Pictures", model: FAKE_PAINTER.id })
      .returning();
    return chat!;
  };
  const linksOf = (messageId: string) =>
    t.database.db
      .select({ fileId: messageFiles.fileId, position: messageFiles.position })
      .from(messageFiles)
      .where(eq(messageFiles.messageId, messageId))
      .orderBy(messageFiles.position);
  const tab = async (chatId: string) => {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    return ws;
  };

  /** Sends in `sender` (or retries an answer); every tab's messages from then on, and the answer's finished fragment. */
  async function ask(sender: TestSocket, frame: object, watchers: TestSocket[] = []) {
    const from = [sender, ...watchers].map((ws) => ws.messages.length);
    sender.send(frame);
    const first = await sender.waitFor((m) => m.includes('data-role="assistant"'), { from: from[0] });
    const id = assistantId(first)!;
    const done = await Promise.all([sender, ...watchers].map((ws, i) => ws.waitFor(finished(id), { from: from[i] })));
    return { id, done, seen: [sender, ...watchers].map((ws, i) => ws.messages.slice(from[i])) };
  }

  test("an image the model sends becomes the owner's file, shown in every tab as it arrives, at the end and after a reload; another person gets 404", async () => {
    const picture = png(8, 5, 11);
    const chat = await newChat();
    const [a, b] = [await tab(chat.id), await tab(chat.id)];
    fake.queue({ text: "Here is your sunset.", images: [base64(picture)], imagesAtToken: 2, tokenDelayMs: 15 });
    const { id, done, seen } = await ask(a, { action: "send", chat: chat.id, content: "Draw a sunset" }, [b]);

    const [link, ...more] = await linksOf(id);
    expect(more).toEqual([]);
    expect(link!.position).toBe(0);
    const [stored] = await t.database.db.select().from(files).where(eq(files.id, link!.fileId));
    expect(stored!.userId).toBe(server.user.id);
    expect(stored!.type).toBe("image/png");
    expect(stored!.name).toBe("image-1.png");
    expect(hex(stored!.bytes)).toBe(hex(picture));

    for (const [i, fragments] of seen.entries()) {
      // While the words still stream, the image shows in its place in the answer...
      const live = fragments.findIndex((m) => m.includes(`<div id="msg-${id}-images" hx-swap-oob="true"`));
      expect(live).toBeGreaterThanOrEqual(0);
      expect(fragments[live]).toContain(imgOf(stored!.id));
      expect(live).toBeLessThan(fragments.indexOf(done[i]!));
      // ...and the finished answer has it under its words.
      expect(done[i]).toContain('data-status="complete"');
      expect(done[i]).toContain("Here is your sunset.");
      expect(done[i]).toContain(imgOf(stored!.id));
    }

    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    const article = page.slice(page.indexOf(`<article id="msg-${id}"`));
    expect(article.slice(0, article.indexOf("</article>"))).toContain(imgOf(stored!.id));

    const mine = await server.fetch(`/files/${stored!.id}`);
    expect(mine.status).toBe(200);
    expect(mine.headers.get("content-type")).toBe("image/png");
    expect(hex(await mine.arrayBuffer())).toBe(hex(picture));
    const theirs = await bob.fetch(`/files/${stored!.id}`);
    expect(theirs.status).toBe(404);
    await Promise.all([a.close(), b.close()]);
  });

  test("an image the person already has is that file again, and the same image twice in one answer shows once", async () => {
    const picture = png(6, 6, 23);
    const [mine] = (await uploaded(await upload(server, [file(picture, "mine.png")]))).files!;
    const before = (await storedFiles(t, server)).length;
    const chat = await newChat();
    const ws = await tab(chat.id);
    fake.queue({ text: "Again.", images: [base64(picture), base64(picture)] });
    const { id, done } = await ask(ws, { action: "send", chat: chat.id, content: "Once more" });
    expect((await storedFiles(t, server)).length).toBe(before);
    expect(await linksOf(id)).toEqual([{ fileId: mine!.id, position: 0 }]);
    expect(done[0]!.split(imgOf(mine!.id)).length - 1).toBe(1);
    await ws.close();
  });

  test("malformed images are left out with a sentence beside the composer, and the answer still completes", async () => {
    const before = (await storedFiles(t, server)).length;
    const chat = await newChat();
    const ws = await tab(chat.id);
    fake.queue({
      text: "Three tries.",
      images: [
        "data:image/png;base64,@@not base64@@",
        `data:image/png;base64,${base64(Buffer.from("hello, not an image"))}`,
        "https://example.com/picture.png",
        { no: "url" },
      ],
    });
    const { id, done, seen } = await ask(ws, { action: "send", chat: chat.id, content: "Draw badly" });
    expect(done[0]).toContain('data-status="complete"');
    expect(done[0]).toContain("Three tries.");
    expect(done[0]).not.toContain(`id="msg-${id}-images"`);
    expect(await linksOf(id)).toEqual([]);
    expect((await storedFiles(t, server)).length).toBe(before);
    const status = seen[0]!.filter((m) => m.includes('id="composer-status"')).at(-1)!;
    expect(status).toContain("The model sent an image whose data is not valid base64; it was left out.");
    expect(status).toContain("The model sent an image that is not a PNG, JPEG, WebP or GIF; it was left out.");
    expect(status.split("The model sent an image that is not a base64 data URL; it was left out.").length - 1).toBe(2);
    const [answer] = await t.database.db.select().from(messages).where(eq(messages.id, id));
    expect(answer!.status).toBe("complete");
    await ws.close();
  });

  test("at most MAX_FILES_PER_MESSAGE images of an answer are kept; the others are left out with a sentence", async () => {
    const chat = await newChat();
    const ws = await tab(chat.id);
    const pictures = [1, 2, 3, 4, 5, 6].map((n) => png(3, 3, 50 + n));
    fake.queue({ text: "Six.", images: pictures.map(base64) });
    const { id, done, seen } = await ask(ws, { action: "send", chat: chat.id, content: "Six please" });
    const links = await linksOf(id);
    expect(links.map((l) => l.position)).toEqual([0, 1, 2, 3]);
    const kept = await t.database.db
      .select()
      .from(files)
      .where(
        inArray(
          files.id,
          links.map((l) => l.fileId),
        ),
      );
    const byId = new Map(kept.map((f) => [f.id, f]));
    expect(links.map((l) => hex(byId.get(l.fileId)!.bytes))).toEqual(pictures.slice(0, 4).map(hex));
    for (const l of links) expect(done[0]).toContain(imgOf(l.fileId));
    const status = seen[0]!.filter((m) => m.includes('id="composer-status"')).at(-1)!;
    expect(status).toContain("The model sent more than 4 images; the others were left out.");
    await ws.close();
  });

  test("an image that would take the person past their storage limit is not kept, with the limit's sentence", async () => {
    // A PNG's signature and header, then 1.1 MB: more than the 1 MB this server allows a person.
    const large = Buffer.concat([png(2, 2, 61), randomBytes(1.1 * 1024 * 1024)]);
    const before = (await storedFiles(t, server)).length;
    const chat = await newChat();
    const ws = await tab(chat.id);
    fake.queue({ text: "Big one.", images: [base64(large)] });
    const { id, done, seen } = await ask(ws, { action: "send", chat: chat.id, content: "Large" });
    expect(done[0]).toContain('data-status="complete"');
    expect(await linksOf(id)).toEqual([]);
    expect((await storedFiles(t, server)).length).toBe(before);
    const status = seen[0]!.filter((m) => m.includes('id="composer-status"')).at(-1)!;
    expect(status).toContain("An image from the model was not kept. Your files may take at most 1 MB;");
    await ws.close();
  });

  test("images that arrived before the model failed mid-answer are kept; Retry writes the answer again without them", async () => {
    const picture = png(5, 7, 31);
    const chat = await newChat();
    const ws = await tab(chat.id);
    fake.queue({ text: "One two three four five", images: [base64(picture)], imagesAtToken: 1, errorAfterTokens: 3 });
    const { id, done } = await ask(ws, { action: "send", chat: chat.id, content: "Try" });
    expect(done[0]).toContain('data-status="error"');
    const [link] = await linksOf(id);
    expect(done[0]).toContain(imgOf(link!.fileId));

    fake.queue({ text: "Words only this time." });
    const again = await ask(ws, { action: "retry", message: id });
    expect(again.id).toBe(id);
    expect(again.done[0]).toContain('data-status="complete"');
    expect(again.done[0]).not.toContain(imgOf(link!.fileId));
    expect(await linksOf(id)).toEqual([]);
    // The file stays the person's (another message may show it); only the answer lets go of it.
    expect((await server.fetch(`/files/${link!.fileId}`)).status).toBe(200);
    await ws.close();
  });

  test("an answer started with image output asks OpenRouter for modalities image and text, and keeps the image", async () => {
    const picture = png(4, 4, 41);
    const chat = await newChat();
    const [question, answer] = await t.database.db
      .insert(messages)
      .values([
        { chatId: chat.id, role: "user", content: "Paint" },
        {
          chatId: chat.id,
          role: "assistant",
          status: "streaming",
          model: FAKE_PAINTER.id,
          leaseUntil: new Date(Date.now() + 60_000),
        },
      ])
      .returning();
    await t.database.db.update(messages).set({ parentId: question!.id }).where(eq(messages.id, answer!.id));
    const ws = await tab(chat.id);
    const from = ws.messages.length;
    fake.queue({ text: "Painted.", images: [base64(picture)] });
    const g = server.app.decorator.chat.generations.start({
      userId: server.user.id,
      chatId: chat.id,
      messageId: answer!.id,
      first: false,
      model: FAKE_PAINTER.id,
      messages: [{ role: "user", content: "Paint" }],
      params: imageOutput({ outputModalities: FAKE_PAINTER.architecture!.output_modalities }),
    });
    await g.done;
    expect(fake.requests.at(-1)!.body.modalities).toEqual(["image", "text"]);
    const done = await ws.waitFor(finished(answer!.id), { from });
    const [link] = await linksOf(answer!.id);
    expect(done).toContain(imgOf(link!.fileId));
    const [stored] = await t.database.db
      .select()
      .from(files)
      .where(and(eq(files.id, link!.fileId), eq(files.userId, server.user.id)));
    expect(hex(stored!.bytes)).toBe(hex(picture));
    await ws.close();
  });
});
