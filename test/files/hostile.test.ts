import { afterAll, beforeAll, expect, test } from "bun:test";
import { createLogger } from "../../src/log.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { file, pdf, png, text } from "./samples.ts";
import { storedFiles, upload, uploaded } from "./support.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const MB = 1024 * 1024;
const ELF = Buffer.concat([Buffer.from("\x7fELF\x02\x01\x01", "latin1"), Buffer.alloc(64)]);
const NOT_A_KIND = "is not a kind of file Parley takes: images (PNG, JPEG, WebP, GIF), PDFs and text files.";

eachDriver("files: hostile uploads get a sentence and store nothing", (t) => {
  let server: TestServer;
  let mallory: Person;
  const logLines: string[] = [];
  beforeAll(async () => {
    const log = createLogger({ level: "info", format: "json", write: (line) => logLines.push(line) });
    server = await startTestServer(t, fakeEnv(fake), { log });
    mallory = await server.signUp("mallory");
  });
  afterAll(() => server.stop());

  /** Runs `attempt` and checks that Mallory's files are as they were. */
  const storesNothing = async <T>(attempt: () => Promise<T>): Promise<T> => {
    const before = await storedFiles(t, mallory);
    const result = await attempt();
    expect(await storedFiles(t, mallory)).toEqual(before);
    return result;
  };

  test("wrong magic bytes, zero bytes, a fake PDF, bad names: each refused with its sentence, the whole upload with it", async () => {
    const cases: [File[], number, string][] = [
      [
        [file(ELF, "photo.png", "image/png")],
        422,
        "“photo.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says.",
      ],
      [
        [file(text("hello"), "photo.jpg", "image/jpeg")],
        422,
        "“photo.jpg” is not a PNG, JPEG, WebP or GIF image, whatever its name says.",
      ],
      [[file(ELF, "tool")], 422, `“tool” ${NOT_A_KIND}`],
      [[file(Buffer.from("hi", "utf16le"), "wide.txt")], 422, `“wide.txt” ${NOT_A_KIND}`],
      [[file("", "empty.txt", "text/plain")], 422, "“empty.txt” is empty (0 bytes)."],
      [
        [file("%PDF-1.7\nnot really\n", "fake.pdf", "application/pdf")],
        422,
        "“fake.pdf” is not a PDF: it starts like one but does not end like one (cut off or damaged).",
      ],
      [
        [file(text("words"), "report.pdf", "application/pdf")],
        422,
        "“report.pdf” is not a PDF, whatever its name says.",
      ],
      [
        [file(text("root:x:0:0"), "../../etc/passwd")],
        422,
        "A file name may not contain / or \\: give the file's name, not a path.",
      ],
      [
        [file(text("x"), "..\\..\\boot.ini")],
        422,
        "A file name may not contain / or \\: give the file's name, not a path.",
      ],
      [[file(png(), "<img src=x onerror=alert(1)>.png")], 422, "A file name may not contain < or >."],
      [[file(text("x"), "invoice\u202efdp.txt")], 422, "A file name may not contain control or invisible characters."],
      [[file(text("x"), "tab\tname.txt")], 422, "A file name may not contain control or invisible characters."],
      [[file(text("x"), "..")], 422, "Each file needs a name."],
      [[file(text("x"), "")], 422, "Each file needs a name."],
      // All or nothing: two good files do not go in with a bad one.
      [
        [file(png(5, 5, 1), "good.png"), file(text("fine\n"), "good.txt"), file(ELF, "bad.png")],
        422,
        "“bad.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says.",
      ],
      [[], 400, "Choose a file to upload."],
      [[file("", "")], 400, "Choose a file to upload."],
    ];
    for (const [sent, status, sentence] of cases) {
      const res = await storesNothing(async () => uploaded(await upload(mallory, sent)));
      expect({ names: sent.map((f) => f.name), ...res }).toEqual({
        names: sent.map((f) => f.name),
        status,
        error: sentence,
      });
    }
    // A form without a file field, or whose field holds text, carries no file; a body that is no form is unreadable.
    for (const [body, sentence] of [
      [new URLSearchParams({ file: "not a file" }), "Choose a file to upload."],
      ["just text", "The upload could not be read (cut off, or not a form); nothing was stored."],
    ] as const) {
      const res = await storesNothing(async () => uploaded(await mallory.fetch("/files", { method: "POST", body })));
      expect(res).toEqual({ status: 400, error: sentence });
    }
  });

  test("1,000 files at once are refused, with the limit named", async () => {
    const many = Array.from({ length: 1000 }, (_, i) => file(text(`file ${i}\n`), `f${i}.txt`));
    const res = await storesNothing(async () => uploaded(await upload(mallory, many)));
    expect(res).toEqual({ status: 413, error: "A message can carry at most 10 files; this upload has 1,000." });
    const ten = await uploaded(await upload(mallory, many.slice(0, 10)));
    expect([ten.status, ten.files?.length]).toEqual([200, 10]);
  });

  test("a 20 MB file is taken and comes back whole; one byte more, or a larger upload, is refused", async () => {
    const line = "A line of a long log, forty bytes long.\n";
    const exact = Buffer.from(line.repeat(Math.ceil((20 * MB) / line.length)).slice(0, 20 * MB));
    const taken = await uploaded(await upload(mallory, [file(exact, "big.log")]));
    expect(taken.files!.map((f) => [f.size, f.type])).toEqual([[20 * MB, "text/plain"]]);
    const back = await mallory.fetch(`/files/${taken.files![0]!.id}`);
    expect(Buffer.from(await back.arrayBuffer()).equals(exact)).toBe(true);

    const oneMore = Buffer.concat([exact.subarray(1), Buffer.from("!!")]);
    const refused = await storesNothing(async () => uploaded(await upload(mallory, [file(oneMore, "bigger.log")])));
    expect(refused).toEqual({ status: 413, error: "“bigger.log” is larger than 20 MB, the most a file may be." });
    const larger = Buffer.alloc(25 * MB, "x");
    const tooLarge = await storesNothing(async () => uploaded(await upload(mallory, [file(larger, "huge.log")])));
    expect(tooLarge).toEqual({
      status: 413,
      error:
        "This upload is larger than 20 MB, the most a file (or one upload) may be: send large files one at a time.",
    });
  });

  test("an upload cut off half-way stores nothing: the connection dropped, or the form's end missing", async () => {
    const form = new FormData();
    form.append("file", file(pdf("Never arrives"), "half.pdf"));
    const request = new Request(`${server.url}/files`, { method: "POST", body: form });
    const body = Buffer.from(await request.arrayBuffer());
    const head = (length: number) =>
      [
        "POST /files HTTP/1.1",
        `Host: ${new URL(server.url).host}`,
        `Origin: ${server.url}`,
        `Cookie: ${mallory.cookie}`,
        `Content-Type: ${request.headers.get("content-type")}`,
        `Content-Length: ${length}`,
        "",
        "",
      ].join("\r\n");

    await storesNothing(async () => {
      const logged = logLines.length;
      const socket = await Bun.connect({
        hostname: "127.0.0.1",
        port: Number(new URL(server.url).port),
        socket: { data() {} },
      });
      socket.write(head(body.length));
      socket.write(body.subarray(0, body.length >> 1));
      socket.end();
      // The server answers the request it could not finish (to nobody) and logs it.
      for (let i = 0; i < 400 && !logLines.slice(logged).some((l) => l.includes('"path":"/files"')); i++) {
        await Bun.sleep(25);
      }
      const line = logLines.slice(logged).find((l) => l.includes('"path":"/files"'));
      expect(JSON.parse(line!)).toMatchObject({ method: "POST", path: "/files", status: 400 });
    });

    // The whole length arrives, but the form stops half-way: no closing boundary.
    const cut = body.subarray(0, body.length >> 1);
    const res = await storesNothing(async () =>
      uploaded(
        await mallory.fetch("/files", {
          method: "POST",
          body: cut,
          headers: { "content-type": request.headers.get("content-type")! },
        }),
      ),
    );
    expect(res).toEqual({
      status: 400,
      error: "The upload could not be read (cut off, or not a form); nothing was stored.",
    });
  });

  test("an upload from another site, without a session, or without a length is refused before it is read", async () => {
    const form = () => {
      const f = new FormData();
      f.append("file", file(png(2, 2, 3), "sneaky.png"));
      return f;
    };
    await storesNothing(async () => {
      const crossSite = await upload(mallory, [file(png(2, 2, 3), "sneaky.png")], {
        headers: { origin: "https://evil.example" },
      });
      expect([crossSite.status, await crossSite.text()]).toEqual([403, "Cross-origin request refused."]);
      const noOrigin = await upload(mallory, [file(png(2, 2, 3), "sneaky.png")], { headers: { origin: "" } });
      expect(noOrigin.status).toBe(403);
      const nobody = await fetch(`${server.url}/files`, {
        method: "POST",
        body: form(),
        headers: { origin: server.url },
      });
      expect(nobody.status).toBe(401);
      // A stream's length is not known ahead: fetch sends it chunked.
      const whole = new Request("http://localhost/", { method: "POST", body: form() });
      const bytes = new Uint8Array(await whole.arrayBuffer());
      const chunked = await mallory.fetch("/files", {
        method: "POST",
        body: new ReadableStream({
          start(controller) {
            controller.enqueue(bytes);
            controller.close();
          },
        }),
        headers: { "content-type": whole.headers.get("content-type")! },
      });
      expect(chunked.status).toBe(411);
    });
  });
});

eachDriver("files: the limits are settings", (t) => {
  let server: TestServer;
  let quinn: Person;
  beforeAll(async () => {
    server = await startTestServer(t, {
      ...fakeEnv(fake),
      STORAGE_PER_PERSON_MB: "1",
      MAX_FILES_PER_MESSAGE: "3",
      MAX_FILE_MB: "1",
    });
    quinn = await server.signUp("quinn");
  });
  afterAll(() => server.stop());

  const kb = (n: number, seed: string) =>
    file(text(seed.repeat(Math.ceil((n * 1024) / seed.length)).slice(0, n * 1024)), `${seed}.txt`);

  test("over the person's storage an upload is refused whole; the same bytes again cost nothing", async () => {
    const first = await uploaded(await upload(quinn, [kb(600, "a")]));
    expect(first.status).toBe(200);
    const over = await uploaded(await upload(quinn, [kb(300, "b"), kb(300, "c")]));
    expect(over).toEqual({
      status: 413,
      error: "Your files may take at most 1 MB; you have 600 KB, and these files would add 600 KB.",
    });
    const again = await uploaded(await upload(quinn, [kb(600, "a")]));
    expect(again.files?.[0]?.id).toBe(first.files![0]!.id);
    expect((await storedFiles(t, quinn)).map((f) => f.name)).toEqual(["a.txt"]);
    // Two uploads at once cannot both squeeze in.
    const racing = await Promise.all([upload(quinn, [kb(300, "d")]), upload(quinn, [kb(300, "e")])]);
    expect(racing.map((r) => r.status).sort()).toEqual([200, 413]);
    expect(await server.app.decorator.files.storageUsed(quinn.user.id)).toBe(900 * 1024);
  });

  test("files per message and the size of a file follow their settings", async () => {
    const four = await uploaded(await upload(quinn, [kb(1, "f"), kb(1, "g"), kb(1, "h"), kb(1, "i")]));
    expect(four).toEqual({ status: 413, error: "A message can carry at most 3 files; this upload has 4." });
    const big = await uploaded(await upload(quinn, [kb(1025, "j")]));
    expect(big).toEqual({ status: 413, error: "“j.txt” is larger than 1 MB, the most a file may be." });
  });
});
