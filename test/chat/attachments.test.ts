import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, files, messages } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import { fileSize } from "../../src/limits.ts";
import { FAKE_MODELS, type FakeUpstream, fakeEnv, fakeReader, startFakeUpstream } from "../fake-upstream.ts";
import { file, pdf, png, text } from "../files/samples.ts";
import { upload, uploaded } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

/** Models as OpenRouter lists them: one that reads images and files, one that reads text alone. */
const VISION = fakeReader("fake/vision", "Fake Vision", ["text", "image", "file"]);
const TEXT_ONLY = fakeReader("fake/words", "Fake Words", ["text"]);

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, VISION, TEXT_ONLY] });
});
afterAll(() => fake.stop());

const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
const userId = (html: string) => /<article id="msg-([0-9a-f-]+)" data-role="user"/.exec(html)?.[1];
const assistantId = (html: string) => /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(html)?.[1];

eachDriver("attachments in a conversation", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const newChat = async (modelId: string, owner: Person = server) => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: owner.user.id, title: "Files", model: modelId })
      .returning();
    return chat!;
  };
  const store = async (who: Person, files: File[]): Promise<FileInfo[]> => {
    const res = await uploaded(await upload(who, files));
    expect(res.status).toBe(200);
    return res.files!;
  };
  const messagesOf = (chatId: string) =>
    t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(messages.id);

  /** Sends over a socket on the chat; the answer's finished fragment, or the refusal shown by the composer. */
  async function send(chatId: string, content: string, attachment: string[], who: Person = server) {
    const ws = await who.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content, attachment });
    const first = await ws.waitFor((m) => m.includes('data-role="user"') || m.includes('data-kind="error"'), { from });
    const id = assistantId(first);
    const done = id ? await ws.waitFor(finished(id), { from }) : undefined;
    const all = ws.messages.slice(from);
    await ws.close();
    return { first, done, all };
  }

  test("an image, a PDF and a text file go to the model as content parts, in order, and show in the chat after a reload", async () => {
    const picture = png(6, 4, 1);
    const report = pdf("Quarterly figures: 42 loaves");
    const notes = text("Proof 2 h at 24 °C.\n```\nnot a fence\n```\n");
    const [image, paper, log] = await store(server, [
      file(picture, "photo.png", "image/png"),
      file(report, "figures.pdf", "application/pdf"),
      file(notes, "notes.txt", "text/plain"),
    ]);
    const chat = await newChat("fake/vision");
    const before = fake.requests.length;
    const { first, done } = await send(chat.id, "What is in these?", [image!.id, paper!.id, log!.id]);
    expect(done).toContain('data-status="complete"');
    // Every tab shows the files with the message as it is sent.
    expect(first).toContain(`<img src="/files/${image!.id}" alt="photo.png"`);
    expect(first).toContain(`href="/files/${paper!.id}" download="figures.pdf"`);
    expect(fake.requests.length).toBe(before + 1);
    const request = fake.requests.at(-1)!.body;
    expect(request.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "What is in these?" },
        { type: "text", text: "Attached image “photo.png”:" },
        { type: "image_url", image_url: { url: dataUrl("image/png", picture) } },
        { type: "file", file: { filename: "figures.pdf", file_data: dataUrl("application/pdf", report) } },
        { type: "text", text: `Attached file “notes.txt”:\n\`\`\`\`\n${notes.toString("utf8")}\n\`\`\`\`` },
      ],
    });
    expect(request.plugins).toEqual([{ id: "file-parser", pdf: { engine: "cloudflare-ai" } }]);

    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(page).toContain(`<img src="/files/${image!.id}" alt="photo.png"`);
    expect(page).toContain(`href="/files/${paper!.id}" download="figures.pdf"`);
    expect(page).toContain(`href="/files/${log!.id}" download="notes.txt"`);

    // A later turn sends the earlier files again with their message; a turn without files has none.
    await send(chat.id, "And the total?", []);
    const later = fake.requests.at(-1)!.body;
    expect(later.messages[0]!.content).toEqual(request.messages.at(-1)!.content);
    expect(later.messages.at(-1)).toEqual({ role: "user", content: "And the total?" });
  });

  test("files alone are a message; no words and no files is refused", async () => {
    const [shot] = await store(server, [file(png(5, 5, 2), "screen.png", "image/png")]);
    const chat = await newChat("fake/vision");
    const before = fake.requests.length;
    const { done } = await send(chat.id, "   ", [shot!.id]);
    expect(done).toContain('data-status="complete"');
    expect(fake.requests.at(-1)!.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Attached image “screen.png”:" },
        { type: "image_url", image_url: { url: dataUrl("image/png", png(5, 5, 2)) } },
      ],
    });
    // The next turn sends it again as history: a message of files alone is not left out.
    await send(chat.id, "and now?", []);
    expect(fake.requests.at(-1)!.body.messages[0]!.content).toHaveLength(2);
    expect(fake.requests.length).toBe(before + 2);
    const { first } = await send(chat.id, "", []);
    expect(first).toContain("Write a message first.");
    expect(await messagesOf(chat.id)).toHaveLength(4);
  });

  test("editing a message keeps its files: the new branch shows them and its request sends them", async () => {
    const picture = png(7, 5, 4);
    const [shot] = await store(server, [file(picture, "chart.png", "image/png")]);
    const chat = await newChat("fake/vision");
    const { first } = await send(chat.id, "What does this show?", [shot!.id]);
    const original = userId(first)!;

    const ws = await server.socket(`/ws?chat=${chat.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    ws.send({ action: "edit", message: original, content: "Which month is highest?" });
    const branched = await ws.waitFor((m) => m.includes("Which month is highest?"), { from });
    const [, , edited, answer] = await messagesOf(chat.id);
    expect(edited!.id).not.toBe(original);
    expect([edited!.content, edited!.active, answer!.parentId]).toEqual(["Which month is highest?", true, edited!.id]);
    await ws.waitFor(finished(answer!.id), { from });
    await ws.close();
    expect(branched).toContain(`<img src="/files/${shot!.id}" alt="chart.png"`);
    expect(fake.requests.at(-1)!.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "Which month is highest?" },
        { type: "text", text: "Attached image “chart.png”:" },
        { type: "image_url", image_url: { url: dataUrl("image/png", picture) } },
      ],
    });
    // Both branches hold the file; words can go, since the file is still the message.
    const page = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(page).toContain(`<img src="/files/${shot!.id}" alt="chart.png"`);
  });

  test("someone else's file cannot be attached: refused with a sentence, nothing stored or sent", async () => {
    const bob = await server.signUp(`bob-${t.driver}`);
    const [theirs] = await store(bob, [file(png(3, 3, 7), "bobs.png")]);
    const chat = await newChat("fake/vision");
    const before = fake.requests.length;
    const { first } = await send(chat.id, "Look at this", [theirs!.id]);
    expect(first).toContain("One of the attached files is no longer there");
    expect(userId(first)).toBeUndefined();
    expect(await messagesOf(chat.id)).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });

  test("an image for a model that cannot read images is refused before anything is stored, naming the models that can", async () => {
    const [image] = await store(server, [file(png(5, 5, 3), "chart.png")]);
    const chat = await newChat("fake/words");
    const before = fake.requests.length;
    const { first } = await send(chat.id, "Describe the chart", [image!.id]);
    expect(first).toContain("Fake Words cannot read images");
    expect(first).toContain("Models that can: Fake Vision.");
    expect(await messagesOf(chat.id)).toEqual([]);
    expect(fake.requests.length).toBe(before);
  });

  test("after a switch to a model without images, earlier images are described in their place and the person is told", async () => {
    const [image] = await store(server, [file(png(4, 4, 9), "plan.png")]);
    const chat = await newChat("fake/vision");
    await send(chat.id, "Here is the plan", [image!.id]);
    await t.database.db.update(chats).set({ model: "fake/words" }).where(eq(chats.id, chat.id));
    const { all } = await send(chat.id, "Summarise it in words", []);
    const request = fake.requests.at(-1)!.body;
    expect(request.model).toBe("fake/words");
    expect(request.messages[0]!.content).toEqual([
      { type: "text", text: "Here is the plan" },
      { type: "text", text: "(The image “plan.png” was attached here; this model cannot see images.)" },
    ]);
    expect(all.join("")).toContain("Fake Words cannot see images: 1 image was left out of this answer");
  });

  test("deleting a chat deletes its files, but not one another chat holds, nor an upload not sent yet", async () => {
    const [only, shared, pending] = await store(server, [
      file(png(2, 2, 11), "only-here.png"),
      file(png(2, 2, 12), "in-both.png"),
      file(png(2, 2, 13), "not-sent.png"),
    ]);
    const doomed = await newChat("fake/vision");
    const kept = await newChat("fake/vision");
    await send(doomed.id, "two files", [only!.id, shared!.id]);
    await send(kept.id, "one file", [shared!.id]);
    const res = await server.fetch(`/chats/${doomed.id}`, { method: "DELETE", headers: { "HX-Request": "true" } });
    expect(res.status).toBeLessThan(400);
    const left = (await t.database.db.select({ id: files.id }).from(files)).map((f) => f.id);
    expect(left).not.toContain(only!.id);
    expect(left).toContain(shared!.id);
    expect(left).toContain(pending!.id);
    expect((await server.fetch(`/files/${only!.id}`)).status).toBe(404);
    expect((await server.fetch(`/files/${shared!.id}`)).status).toBe(200);
  });

  test("the account page says how much of their file storage a person uses, and only theirs", async () => {
    const carol = await server.signUp(`carol-${t.driver}`);
    const empty = await (await carol.fetch("/account/files")).text();
    expect(empty).toContain("Your files take 0 bytes of the 1 GB you may keep (0%).");
    const picture = png(40, 30, 21);
    await store(carol, [file(picture, "a.png"), file(text("x".repeat(2048)), "b.txt")]);
    const used = await (await carol.fetch("/account/files")).text();
    expect(used).toContain(`Your files take ${fileSize(picture.length + 2048)} of the 1 GB`);
    expect(await (await carol.fetch("/account")).text()).toContain('hx-get="/account/files"');
  });
});
