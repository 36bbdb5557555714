import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messageAnnotations } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import {
  FAKE_MODELS,
  type FakeUpstream,
  fakeEnv,
  fakeParse,
  fakeReader,
  type RecordedRequest,
  startFakeUpstream,
} from "../fake-upstream.ts";
import { file, pdf } from "../files/samples.ts";
import { upload, uploaded } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { startTestServer, type TestServer } from "../support/server.ts";
import { finished } from "../support/ws.ts";

/*
 * How a chat's PDFs are read (its Settings), and OpenRouter's parse annotations: kept with the
 * answer they came with and sent back on it, so a PDF is not parsed (nor paid for) twice. The
 * fake upstream "parses" each PDF no annotation sent back covers, and records which it parsed.
 */

const READER = fakeReader("fake/reader", "Fake Reader", ["text", "image", "file"]);
const WORDS = fakeReader("fake/words", "Fake Words", ["text"]);

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, READER, WORDS] });
});
afterAll(() => fake.stop());

const dataUrl = (bytes: Uint8Array) => `data:application/pdf;base64,${Buffer.from(bytes).toString("base64")}`;
const pdfPart = (name: string, bytes: Uint8Array) => ({
  type: "file" as const,
  file: { filename: name, file_data: dataUrl(bytes) },
});
const fileParser = (engine: string) => [{ id: "file-parser", pdf: { engine } }];

eachDriver("reading a chat's PDFs", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const newChat = async (modelId = "fake/reader") => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "PDFs", model: modelId })
      .returning();
    return chat!;
  };
  const storePdf = async (name: string, bytes: Uint8Array): Promise<FileInfo> => {
    const res = await uploaded(await upload(server, [file(bytes, name, "application/pdf")]));
    expect(res.status).toBe(200);
    return res.files![0]!;
  };
  const save = (id: string, form: Record<string, string>) =>
    server.fetch(`/chats/${id}/settings`, {
      method: "POST",
      headers: { "HX-Request": "true" },
      body: new URLSearchParams(form),
    });
  const parsesOf = async (messageId: string) =>
    (await t.database.db.select().from(messageAnnotations).where(eq(messageAnnotations.messageId, messageId)))[0];

  /** Sends over the chat's socket and waits for the answer's end: the answer's id and the request upstream got. */
  async function send(chatId: string, content: string, attachment: string[] = []) {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const from = ws.messages.length;
    const before = fake.requests.length;
    ws.send({ action: "send", chat: chatId, content, attachment });
    const started = await ws.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const answerId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;
    const done = await ws.waitFor(finished(answerId), { from });
    await ws.close();
    expect(done).toContain('data-status="complete"');
    const request = fake.requests.slice(before).find((r) => r.body.stream) as RecordedRequest;
    return { answerId, request };
  }

  test("a PDF is read by text extraction unless the chat chose OCR or the model's own reading in its settings", async () => {
    const bytes = pdf("Invoice 7: 12 baguettes");
    const invoice = await storePdf("invoice.pdf", bytes);
    const chat = await newChat();
    const first = await send(chat.id, "What is owed?", [invoice.id]);
    expect(first.request.body.plugins).toEqual(fileParser("cloudflare-ai"));

    expect((await save(chat.id, { pdf_engine: "ocr" })).status).toBe(200);
    expect((await t.database.db.select().from(chats).where(eq(chats.id, chat.id)))[0]!.pdfEngine).toBe("ocr");
    const ocr = await send(chat.id, "Read it again");
    expect(ocr.request.body.plugins).toEqual(fileParser("mistral-ocr"));

    expect((await save(chat.id, { pdf_engine: "native" })).status).toBe(200);
    const native = await send(chat.id, "Once more");
    expect(native.request.body.plugins).toEqual(fileParser("native"));
    // The model read the PDF itself: OpenRouter parsed nothing, and nothing is kept.
    expect(native.request.parsed).toEqual([]);
    expect(await parsesOf(native.answerId)).toBeUndefined();

    // A request without a PDF names no engine, whatever the chat chose.
    const plain = await newChat();
    expect((await save(plain.id, { pdf_engine: "ocr" })).status).toBe(200);
    expect((await send(plain.id, "No files here")).request.body.plugins).toBeUndefined();
  });

  test("the parse an answer brings is kept with it and sent back on it, so the PDF is not parsed again", async () => {
    const bytes = pdf("Quarterly figures: 42 loaves");
    const report = await storePdf("figures.pdf", bytes);
    const chat = await newChat();
    const first = await send(chat.id, "Summarise", [report.id]);
    expect(first.request.parsed).toEqual(["figures.pdf"]);
    const parse = fakeParse(pdfPart("figures.pdf", bytes), "cloudflare-ai");
    expect(await parsesOf(first.answerId)).toEqual({ messageId: first.answerId, engine: "text", files: [parse] });

    const second = await send(chat.id, "And the total?");
    // The PDF goes again with its message, and the parse with the answer that brought it.
    expect(second.request.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Summarise" }, pdfPart("figures.pdf", bytes)] },
      { role: "assistant", content: expect.any(String), annotations: [parse] },
      { role: "user", content: "And the total?" },
    ]);
    expect(second.request.parsed).toEqual([]);
    expect(await parsesOf(second.answerId)).toBeUndefined();

    // Two turns on, the first answer still carries it.
    const third = await send(chat.id, "Thanks");
    expect(third.request.body.messages[1]!.annotations).toEqual([parse]);
    expect(third.request.body.messages[3]!.annotations).toBeUndefined();
    expect(third.request.parsed).toEqual([]);
  });

  test("after a switch to OCR the text extraction's parse is not sent back: OCR reads the PDF, and its parse is the one reused", async () => {
    const bytes = pdf("A scanned receipt");
    const receipt = await storePdf("receipt.pdf", bytes);
    const chat = await newChat();
    const first = await send(chat.id, "What does it say?", [receipt.id]);
    expect((await save(chat.id, { pdf_engine: "ocr" })).status).toBe(200);

    const ocr = await send(chat.id, "Try OCR");
    expect(ocr.request.body.messages[1]!.annotations).toBeUndefined();
    expect(ocr.request.parsed).toEqual(["receipt.pdf"]);
    const ocrParse = fakeParse(pdfPart("receipt.pdf", bytes), "mistral-ocr");
    expect(await parsesOf(ocr.answerId)).toMatchObject({ engine: "ocr", files: [ocrParse] });

    const next = await send(chat.id, "And the date?");
    expect(next.request.body.messages.map((m) => m.annotations)).toEqual([
      undefined,
      undefined,
      undefined,
      [ocrParse],
      undefined,
    ]);
    expect(next.request.parsed).toEqual([]);
    // Back to text extraction: its own parse is reused again.
    expect((await save(chat.id, { pdf_engine: "" })).status).toBe(200);
    const back = await send(chat.id, "Plain text again");
    expect(back.request.body.messages[1]!.annotations).toEqual([(await parsesOf(first.answerId))!.files[0]!]);
    expect(back.request.parsed).toEqual([]);
  });

  test("the settings offer the three ways with words a person understands, and refuse one that cannot be", async () => {
    const chat = await newChat();
    const form = await (await server.fetch(`/chats/${chat.id}/settings`)).text();
    expect(form).toContain('name="pdf_engine"');
    expect(form).toContain('<option value="text" selected>Text extraction (free)</option>');
    expect(form).toContain('<option value="ocr">OCR for scanned PDFs (paid)</option>');
    expect(form).toContain('<option value="native">The model reads the PDF itself</option>');

    const refused = await save(chat.id, { pdf_engine: "magic" });
    expect(refused.status).toBe(422);
    expect(await refused.text()).toContain("PDFs are read by text extraction, OCR or the model itself");

    // A model that takes no files is not offered its own reading, and cannot be given it.
    const words = await newChat("fake/words");
    const wordsForm = await (await server.fetch(`/chats/${words.id}/settings`)).text();
    expect(wordsForm).toContain('value="ocr"');
    expect(wordsForm).not.toContain('value="native"');
    const cannot = await save(words.id, { pdf_engine: "native" });
    expect(cannot.status).toBe(422);
    expect(await cannot.text()).toContain("Fake Words cannot read PDFs itself");

    const ok = await save(chat.id, { pdf_engine: "ocr" });
    expect(ok.status).toBe(200);
    const shown = await ok.text();
    expect(shown).toContain('<option value="ocr" selected>OCR for scanned PDFs (paid)</option>');
    // The header's summary says so.
    expect(shown).toContain("PDFs by OCR");
  });
});
