import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { attach } from "../../src/chat/repos/attachments.ts";
import { chats, files, messageFiles, messages } from "../../src/db/schema.ts";
import { PART_BYTES } from "../../src/files/repo.ts";
import { createFileService, fileLimits } from "../../src/files/service.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { file, gif, jpeg, pdf, png, text, webp } from "./samples.ts";
import { storedFiles, upload, uploaded } from "./support.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const UNKNOWN_ID = "01900000-0000-7000-8000-000000000000";

eachDriver("files: upload, download, one copy per person, owner only", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob-the-other");
  });
  afterAll(() => server.stop());

  const download = async (who: Person, id: string) => {
    const res = await who.fetch(`/files/${id}`);
    return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
  };

  test("images, a PDF and a text file come back byte for byte, typed by their bytes, not by the browser's claim", async () => {
    const sent = [
      file(png(64, 48, 1), "oven.png", "image/png"),
      file(jpeg(), "crust.jpg", "image/jpeg"),
      file(gif(), "dot.gif", "text/html"),
      file(webp(), "dot.webp"),
      file(pdf(), "figures.pdf", "text/html"),
      file(text(), "Notes — crème.txt", "image/png"),
    ];
    const res = await uploaded(await upload(server, sent));
    expect(res.status).toBe(200);
    expect(res.files!.map((f) => [f.name, f.size, f.type])).toEqual([
      ["oven.png", sent[0]!.size, "image/png"],
      ["crust.jpg", sent[1]!.size, "image/jpeg"],
      ["dot.gif", sent[2]!.size, "image/gif"],
      ["dot.webp", sent[3]!.size, "image/webp"],
      ["figures.pdf", sent[4]!.size, "application/pdf"],
      ["Notes — crème.txt", sent[5]!.size, "text/plain"],
    ]);
    for (const [i, stored] of res.files!.entries()) {
      const { res: got, bytes } = await download(server, stored.id);
      expect([stored.name, got.status]).toEqual([stored.name, 200]);
      expect(bytes).toEqual(new Uint8Array(await sent[i]!.arrayBuffer()));
      expect(got.headers.get("content-type")).toBe(
        stored.type === "text/plain" ? "text/plain; charset=utf-8" : stored.type,
      );
    }
    const rows = await t.database.db.select().from(files).where(eq(files.userId, server.user.id));
    expect(rows.map((r) => r.id).sort()).toEqual(res.files!.map((f) => f.id).sort());
    const hash = (b: Uint8Array) => new Bun.CryptoHasher("sha256").update(b).digest("hex");
    for (const row of rows) expect([row.name, row.sha256]).toEqual([row.name, hash(row.bytes)]);
  });

  test("files larger than a statement's part are stored whole, byte for byte, wherever their parts fall", async () => {
    // Text whose parts split its three-byte characters, and an image of two parts and a bit.
    const long = text("ライ麦パン, crème fraîche; ".repeat(Math.ceil((2.5 * PART_BYTES) / 40)));
    const picture = Buffer.concat([png(4, 3, 9), randomBytes(2 * PART_BYTES + 1000)]);
    const sent = [file(long, "long notes.txt"), file(picture, "large.png")];
    const res = await uploaded(await upload(server, sent));
    expect(res.status).toBe(200);
    expect(res.files!.map((f) => [f.name, f.size, f.type])).toEqual([
      ["long notes.txt", long.length, "text/plain"],
      ["large.png", picture.length, "image/png"],
    ]);
    for (const [i, stored] of res.files!.entries()) {
      expect((await download(server, stored.id)).bytes).toEqual(new Uint8Array(await sent[i]!.arrayBuffer()));
    }
  });

  test("the same bytes twice, in two uploads or in one, are one file, stored once, under the name first given", async () => {
    const bytes = png(8, 8, 77);
    const first = await uploaded(await upload(server, [file(bytes, "bread.png")]));
    const again = await uploaded(await upload(server, [file(bytes, "bread (copy).png"), file(bytes, "third.png")]));
    expect(again.status).toBe(200);
    const id = first.files![0]!.id;
    expect(again.files!.map((f) => [f.id, f.name])).toEqual([
      [id, "bread.png"],
      [id, "bread.png"],
    ]);
    const copies = (await storedFiles(t, server)).filter((r) => r.size === bytes.length && r.name.startsWith("b"));
    expect(copies.map((r) => r.id)).toEqual([id]);
  });

  test("another person's file answers exactly like one that does not exist; their own copy of the same bytes is theirs", async () => {
    const [mine] = (await uploaded(await upload(server, [file(text("the owner's secret plan\n"), "plan.txt")]))).files!;
    const responses = await Promise.all(
      [mine!.id, UNKNOWN_ID, "not-an-id", `${mine!.id}x`].map((id) => download(bob, id)),
    );
    for (const { res, bytes } of responses) {
      expect(res.status).toBe(404);
      expect(new TextDecoder().decode(bytes)).toBe("There is no such file.");
      expect(Object.keys(res.headers.toJSON()).sort()).toEqual(Object.keys(responses[1]!.res.headers.toJSON()).sort());
    }
    // Nobody at all is sent to sign in.
    const nobody = await fetch(`${server.url}/files/${mine!.id}`, { redirect: "manual" });
    expect([nobody.status, nobody.headers.get("location")]).toEqual([303, `/signin?next=%2Ffiles%2F${mine!.id}`]);
    expect(await nobody.text()).not.toContain("secret plan");

    // Bob uploading the same bytes gets a file of his own: nothing is shared between people.
    const [his] = (await uploaded(await upload(bob, [file(text("the owner's secret plan\n"), "bobs.txt")]))).files!;
    expect(his!.id).not.toBe(mine!.id);
    expect((await download(bob, his!.id)).res.status).toBe(200);
    expect((await download(server, his!.id)).res.status).toBe(404);
    const owners = await t.database.db.select({ userId: files.userId }).from(files).where(eq(files.name, "plan.txt"));
    expect(owners).toEqual([{ userId: server.user.id }]);
  });

  test("served safely: raster images inline, everything else a download; nosniff, a sandboxing CSP, private immutable caching", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>';
    const sent = [
      file(png(2, 2, 5), "tiny.png"),
      file(pdf("Headers"), 'Ann\'s "report" — 2026.pdf'),
      file(svg, "logo.svg", "image/svg+xml"),
      file("<!doctype html><script>alert(1)</script>", "page.html", "text/html"),
    ];
    const [image, report, logo, page] = (await uploaded(await upload(server, sent))).files!;
    expect([logo!.type, page!.type]).toEqual(["text/plain", "text/plain"]);
    const headersOf = async (id: string) => (await server.fetch(`/files/${id}`)).headers;

    const imageHeaders = await headersOf(image!.id);
    expect(imageHeaders.get("content-disposition")).toBe('inline; filename="tiny.png"');
    const reportHeaders = await headersOf(report!.id);
    expect(reportHeaders.get("content-disposition")).toBe(
      `attachment; filename="Ann's _report_ _ 2026.pdf"; filename*=UTF-8''Ann%27s%20%22report%22%20%E2%80%94%202026.pdf`,
    );
    for (const [id, type] of [
      [logo!.id, "text/plain; charset=utf-8"],
      [page!.id, "text/plain; charset=utf-8"],
    ] as const) {
      const headers = await headersOf(id);
      expect(headers.get("content-type")).toBe(type);
      expect(headers.get("content-disposition")).toStartWith("attachment; ");
    }
    for (const headers of [imageHeaders, reportHeaders]) {
      expect(headers.get("x-content-type-options")).toBe("nosniff");
      expect(headers.get("content-security-policy")).toBe(
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'",
      );
      expect(headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
      expect(headers.get("vary")).toBe("cookie");
      expect(headers.get("cross-origin-resource-policy")).toBe("same-origin");
    }
    const etag = imageHeaders.get("etag")!;
    expect(etag).toBe(`"${(await storedFiles(t, server)).find((r) => r.id === image!.id)!.sha256}"`);
    const revalidated = await server.fetch(`/files/${image!.id}`, { headers: { "if-none-match": etag } });
    expect([revalidated.status, await revalidated.text()]).toEqual([304, ""]);
    // The ETag is no way around the owner check.
    const theirs = await bob.fetch(`/files/${image!.id}`, { headers: { "if-none-match": etag } });
    expect(theirs.status).toBe(404);
  });

  test("a person's storage is the sum of their files' sizes, each stored file once", async () => {
    const { files: service } = server.app.decorator;
    const rows = await storedFiles(t, server);
    expect(await service.storageUsed(server.user.id)).toBe(rows.reduce((sum, r) => sum + r.size, 0));
    const before = await service.storageUsed(bob.user.id);
    const extra = text("an extra loaf of text\n");
    await upload(bob, [file(extra, "extra.txt")]);
    await upload(bob, [file(extra, "extra again.txt")]);
    expect(await service.storageUsed(bob.user.id)).toBe(before + extra.length);
  });

  test("deleting a person frees their files, also those attached to their messages", async () => {
    const carol = await server.signUp("carol-leaves");
    const made = await carol.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "Read this, please", model: "fake/fast" }),
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const [question] = await t.database.db
      .select()
      .from(messages)
      .where(and(eq(messages.chatId, chatId), eq(messages.role, "user")));
    const [attached] = (await uploaded(await upload(carol, [file(pdf("Carol's"), "carol.pdf")]))).files!;
    // The link made directly, as a send makes it.
    await t.database.db.insert(messageFiles).values({ messageId: question!.id, fileId: attached!.id, position: 0 });
    await upload(carol, [file(png(3, 3, 9), "loose.png")]);
    expect(await storedFiles(t, carol)).toHaveLength(2);

    const res = await server.fetch(`/admin/users/${carol.user.id}/delete`, { method: "POST" });
    expect([res.status, res.headers.get("location")]).toEqual([303, "/admin?done=user-deleted"]);
    expect(await storedFiles(t, carol)).toEqual([]);
    expect(await t.database.db.select().from(messageFiles).where(eq(messageFiles.fileId, attached!.id))).toEqual([]);
  });
});

eachDriver("files: uploads never sent are deleted after a day", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const service = () =>
    createFileService({
      database: t.database,
      limits: fileLimits({ maxFileMb: 20, maxFilesPerMessage: 10, storagePerPersonMb: 1024 }),
    });
  const store = async (name: string, bytes: Uint8Array) =>
    (await uploaded(await upload(server, [file(bytes, name)]))).files![0]!;
  const age = (id: string, hours: number) =>
    t.database.db
      .update(files)
      .set({ createdAt: new Date(Date.now() - hours * 3_600_000) })
      .where(eq(files.id, id));
  const question = async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Sweep", model: "fake/fast" })
      .returning();
    const [m] = await t.database.db
      .insert(messages)
      .values({ chatId: chat!.id, role: "user", content: "see", status: "complete" })
      .returning();
    return m!;
  };

  test("a file uploaded over a day ago and never sent is deleted; a sent one and a recent one stay", async () => {
    const stale = await store("forgotten.png", png(4, 4, 21));
    const sent = await store("sent.png", png(4, 4, 22));
    const fresh = await store("just-now.png", png(4, 4, 23));
    await attach(t.database.db, server.user.id, (await question()).id, [sent.id]);
    for (const f of [stale, sent]) await age(f.id, 25);
    await age(fresh.id, 23);

    expect(await service().sweep()).toBe(1);
    const left = (await storedFiles(t, server)).map((f) => f.name);
    expect(left).toContain("sent.png");
    expect(left).toContain("just-now.png");
    expect(left).not.toContain("forgotten.png");
    expect((await server.fetch(`/files/${stale.id}`)).status).toBe(404);
    expect(await service().sweep()).toBe(0);
  });

  if (t.driver === "postgres") {
    test("a file being attached while the sweep runs is skipped, not deleted from under the message", async () => {
      const late = await store("late.png", png(4, 4, 24));
      await age(late.id, 30);
      const m = await question();
      // The send's transaction holds the file until it commits; the sweep meanwhile passes it by.
      await t.database.db.transaction(async (tx) => {
        expect(await attach(tx, server.user.id, m.id, [late.id])).toBe(true);
        expect(await service().sweep()).toBe(0);
      });
      expect(await service().sweep()).toBe(0);
      const links = await t.database.db.select().from(messageFiles).where(eq(messageFiles.fileId, late.id));
      expect(links.map((l) => l.messageId)).toEqual([m.id]);
    });
  }
});
