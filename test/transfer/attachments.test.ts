import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq, inArray } from "drizzle-orm";
import { files, messageFiles } from "../../src/db/schema.ts";
import type { FileInfo } from "../../src/files/types.ts";
import { fileSize } from "../../src/limits.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { file, pdf, png, text } from "../files/samples.ts";
import { storedFiles, uploaded, upload as uploadFiles } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { chatsOf, rowCounts, seedChat, upload } from "./support.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const sha256 = (bytes: Uint8Array) => new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
const base64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

type ExportedFile = { name: string; type: string; size: number; sha256: string; data: string };
type Doc = {
  version: number;
  chats: { title: string; messages: { content: string; attachments?: ExportedFile[] }[] }[];
};

/** A Parley file of one chat whose first message carries these files (as an export writes them). */
const withFiles = (attachments: Partial<ExportedFile>[], title = "Files") =>
  JSON.stringify({
    format: "parley-chats",
    version: 2,
    chats: [
      {
        title,
        messages: [
          { role: "user", content: "Look", attachments },
          { role: "assistant", content: "Seen." },
        ],
      },
    ],
  });
const described = (name: string, bytes: Uint8Array, type: string): ExportedFile => ({
  name,
  type,
  size: bytes.length,
  sha256: sha256(bytes),
  data: base64(bytes),
});

eachDriver("exporting and importing chats with files", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    // Small limits, so that going over them takes small files.
    server = await startTestServer(t, { ...fakeEnv(fake), STORAGE_PER_PERSON_MB: "1", MAX_FILES_PER_MESSAGE: "3" });
  });
  afterAll(() => server.stop());

  const store = async (who: Person, sent: File[]): Promise<FileInfo[]> => {
    const res = await uploaded(await uploadFiles(who, sent));
    expect(res.status).toBe(200);
    return res.files!;
  };
  /** A chat whose first question carries these files, in order. */
  const chatWith = async (who: Person, attached: FileInfo[], title: string) => {
    const seeded = await seedChat(t, who.user.id, { title }, [
      { role: "user", content: "What is in these?" },
      { role: "assistant", content: "Bread and figures.", model: "fake/fast" },
    ]);
    await t.database.db
      .insert(messageFiles)
      .values(attached.map((f, position) => ({ messageId: seeded.messages[0]!.id, fileId: f.id, position })));
    return seeded;
  };
  const importing = async (who: Person, body: string) => {
    const res = await upload(who, body);
    const page = res.status === 303 ? await (await who.fetch(res.headers.get("location")!)).text() : await res.text();
    return { status: res.status, alert: alertOf(page), notice: noticeOf(page) };
  };
  /** A person's files with their bytes, oldest first, and which message holds each, in order. */
  const filesOf = async (who: Person) => {
    const rows = await storedFiles(t, who);
    const links = rows.length
      ? await t.database.db
          .select()
          .from(messageFiles)
          .where(
            inArray(
              messageFiles.fileId,
              rows.map((r) => r.id),
            ),
          )
          .orderBy(asc(messageFiles.messageId), asc(messageFiles.position))
      : [];
    return { rows, links };
  };

  test("round trip: the export carries each file's bytes; another person's import stores them byte for byte, as theirs", async () => {
    const ann = await server.signUp("ann");
    const bytes = [png(7, 5, 2), pdf("Figures for export"), text("Proofing notes.\n")];
    const sent = await store(ann, [
      file(bytes[0]!, "loaf.png"),
      file(bytes[1]!, "figures.pdf"),
      file(bytes[2]!, "notes — crème.txt"),
    ]);
    await chatWith(ann, sent, "With files");
    await seedChat(t, ann.user.id, { title: "Without files" }, [{ content: "Plain" }]);

    const res = await ann.fetch("/account/export.json");
    const body = await res.text();
    // Written a file at a time, the same text as JSON.stringify writes for the whole document.
    expect(body).toBe(`${JSON.stringify(JSON.parse(body), null, 2)}\n`);
    const doc = JSON.parse(body) as Doc;
    expect(doc.version).toBe(2);
    expect(doc.chats.map((c) => c.title)).toEqual(["With files", "Without files"]);
    const [question, answer] = doc.chats[0]!.messages;
    expect(question!.attachments).toEqual([
      described("loaf.png", bytes[0]!, "image/png"),
      described("figures.pdf", bytes[1]!, "application/pdf"),
      described("notes — crème.txt", bytes[2]!, "text/plain"),
    ]);
    expect(answer).not.toHaveProperty("attachments");
    expect(doc.chats[1]!.messages[0]).not.toHaveProperty("attachments");
    // One chat's file holds the same chat, the same way.
    const chatId = (await chatsOf(t, ann.user.id))[0]!.chat.id;
    const one = (await (await ann.fetch(`/chats/${chatId}/export.json`)).json()) as Doc;
    expect(one.chats[0]).toEqual(doc.chats[0]!);

    const bea = await server.signUp("bea");
    expect(await importing(bea, body)).toEqual({
      status: 303,
      alert: undefined,
      notice: "Imported 2 chats with 3 messages and 3 files.",
    });
    const { rows, links } = await filesOf(bea);
    expect(rows.map((r) => [r.name, r.type, r.size, r.sha256])).toEqual(
      sent.map((f, i) => [f.name, f.type, f.size, sha256(bytes[i]!)]),
    );
    const stored = await t.database.db.select().from(files).where(eq(files.userId, bea.user.id)).orderBy(files.id);
    for (const [i, row] of stored.entries()) {
      expect([row.id, sha256(row.bytes)]).toEqual([rows[i]!.id, sha256(bytes[i]!)]);
      expect(new Uint8Array(row.bytes)).toEqual(new Uint8Array(bytes[i]!));
    }
    const [imported] = await chatsOf(t, bea.user.id);
    expect(links.map((l) => [l.messageId, l.fileId, l.position])).toEqual(
      rows.map((r, i) => [imported!.messages[0]!.id, r.id, i]),
    );
    // Theirs to download, and shown with the message.
    const got = await bea.fetch(`/files/${rows[1]!.id}`);
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(new Uint8Array(bytes[1]!));
    const page = await (await bea.fetch(`/chats/${imported!.chat.id}`)).text();
    expect(page).toContain(`href="/files/${rows[1]!.id}" download="figures.pdf"`);

    // The same file again brings nothing; the same chats retitled are new chats, but the same
    // bytes are the same files, stored once.
    expect((await importing(bea, body)).notice).toStartWith("Nothing new to import.");
    const retitled = { ...doc, chats: doc.chats.map((c) => ({ ...c, title: `${c.title} (again)` })) };
    expect((await importing(bea, JSON.stringify(retitled))).notice).toBe(
      "Imported 2 chats with 3 messages and 3 files.",
    );
    const again = await filesOf(bea);
    expect(again.rows.map((r) => r.id)).toEqual(rows.map((r) => r.id));
    expect(again.links).toHaveLength(6);
  });

  test("a file whose bytes are not what its name or type says is refused with a sentence, and nothing is stored", async () => {
    const cid = await server.signUp("cid");
    const notes = text("Just words.\n");
    const at = 'Chat 1 ("Files"), message 1, file 2';
    const cases: [string, Partial<ExportedFile>, string][] = [
      [
        "wrong magic bytes",
        described("loaf.png", notes, "image/png"),
        `${at}: “loaf.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says.`,
      ],
      [
        "a type its bytes do not bear out",
        described("notes.txt", notes, "image/png"),
        `${at} (“notes.txt”) is marked as "image/png", but its bytes are text.`,
      ],
      [
        "bytes changed since the export",
        { ...described("notes.txt", notes, "text/plain"), sha256: sha256(text("Other words.\n")) },
        `${at} (“notes.txt”) does not match its sha256: its bytes were changed or damaged since it was exported.`,
      ],
      [
        "a size that is not the data's",
        { ...described("notes.txt", notes, "text/plain"), size: 3 },
        `${at} (“notes.txt”) is marked as 3 bytes, but its data holds 12.`,
      ],
      [
        "data that is not base64",
        { ...described("notes.txt", notes, "text/plain"), data: "not base64!" },
        `${at} (“notes.txt”) has data that is not base64.`,
      ],
      [
        "a name that is a path",
        described("../etc/passwd", notes, "text/plain"),
        `${at}: A file name may not contain / or \\: give the file's name, not a path.`,
      ],
      ["no bytes", described("empty.txt", new Uint8Array(), "text/plain"), `${at}: “empty.txt” is empty (0 bytes).`],
    ];
    for (const [what, bad, sentence] of cases) {
      const before = await rowCounts(t);
      // A good file before it is not stored either.
      const refused = await importing(cid, withFiles([described("fine.pdf", pdf("Fine"), "application/pdf"), bad]));
      expect([what, refused.status, refused.alert]).toEqual([what, 400, `${sentence} Nothing was imported.`]);
      expect(await rowCounts(t)).toEqual(before);
      expect(await storedFiles(t, cid)).toEqual([]);
    }
  });

  test("files over the person's storage, or more files on a message than allowed, are refused with a sentence", async () => {
    const dan = await server.signUp("dan");
    const before = await rowCounts(t);
    const big = (seed: string) => new TextEncoder().encode(seed.repeat(600 * 1024));
    const over = await importing(
      dan,
      withFiles([described("a.txt", big("a"), "text/plain"), described("b.txt", big("b"), "text/plain")]),
    );
    expect([over.status, over.alert]).toEqual([
      413,
      "Your files may take at most 1 MB; you have 0 bytes, and these files would add 1.2 MB. Nothing was imported.",
    ]);
    const notes = text();
    const many = await importing(
      dan,
      withFiles(Array.from({ length: 4 }, (_, i) => described(`n${i}.txt`, notes, "text/plain"))),
    );
    expect([many.status, many.alert]).toEqual([
      400,
      'Chat 1 ("Files"), message 1 has 4 files; a message can carry at most 3. Nothing was imported.',
    ]);
    // Refused after the chat's project was made: the project goes again with everything else.
    const inProject = JSON.parse(
      withFiles([described("a.txt", big("a"), "text/plain"), described("b.txt", big("b"), "text/plain")]),
    );
    inProject.chats[0].project = { name: "Made for nothing", instructions: null, model: null };
    const refused = await importing(dan, JSON.stringify(inProject));
    expect(refused.status).toBe(413);
    expect(await (await dan.fetch("/projects")).text()).not.toContain("Made for nothing");
    expect(await rowCounts(t)).toEqual(before);
    expect(await t.database.db.select().from(files).where(eq(files.userId, dan.user.id))).toEqual([]);
    // The same bytes twice in one file count once.
    const twice = await importing(
      dan,
      withFiles([described("a.txt", big("a"), "text/plain"), described("again.txt", big("a"), "text/plain")]),
    );
    expect(twice.notice).toBe("Imported 1 chat with 2 messages and 1 file.");
  });

  test("the Markdown export lists each message's files as links to them, with their kind and size", async () => {
    const eve = await server.signUp("eve");
    const sent = await store(eve, [file(png(4, 4, 9), "oven [v2] *final*.png"), file(pdf("Costs"), "costs.pdf")]);
    const { chat } = await chatWith(eve, sent, "Markdown files");
    const markdown = await (await eve.fetch(`/chats/${chat.id}/export.md`)).text();
    expect(markdown).toContain(
      [
        "## You",
        "What is in these?",
        `Attached:\n\n- [oven \\[v2\\] \\*final\\*.png](${server.url}/files/${sent[0]!.id}) (PNG image, ${fileSize(sent[0]!.size)})\n- [costs.pdf](${server.url}/files/${sent[1]!.id}) (PDF, ${fileSize(sent[1]!.size)})`,
        "## Assistant (fake/fast)",
      ].join("\n\n"),
    );
  });
});
