import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { PROJECT_FILES_INTRO } from "../../src/chat/pipeline.ts";
import { chats, files, messageFiles, projectFiles, projects } from "../../src/db/schema.ts";
import {
  FAKE_MODELS,
  type FakeModel,
  type FakeUpstream,
  fakeEnv,
  fakeReader,
  startFakeUpstream,
} from "../fake-upstream.ts";
import { file, pdf, png, text } from "../files/samples.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { endOfShown, finished } from "../support/ws.ts";

/** A model that reads images and PDFs, and one whose context holds a few thousand tokens only. */
const VISION = fakeReader("fake/vision", "Fake Vision", ["text", "image", "file"]);
const TINY: FakeModel = { ...FAKE_MODELS[0]!, id: "fake/tiny", name: "Fake Tiny", context_length: 3000 };

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream({ models: [...FAKE_MODELS, VISION, TINY] });
});
afterAll(() => fake.stop());

const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
const assistantId = (html: string) => /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(html)?.[1];

eachDriver("a project's files", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(
      t,
      fakeEnv(fake, { MAX_FILE_MB: "1", STORAGE_PER_PERSON_MB: "3", MAX_FILES_PER_MESSAGE: "25" }),
    );
    bob = await server.signUp("bob-project-files");
  });
  afterAll(() => server.stop());

  const makeProject = async (who: Person, name: string, model: string) => {
    const res = await who.fetch("/projects", {
      method: "POST",
      body: new URLSearchParams({ name, model, system_prompt: `You help with ${name}.` }),
    });
    expect(res.status).toBe(303);
    return /\/projects\/([0-9a-f-]+)/.exec(res.headers.get("location")!)![1]!;
  };
  const addFiles = (who: Person, projectId: string, sent: File[], htmx = false) => {
    const form = new FormData();
    for (const f of sent) form.append("file", f);
    return who.fetch(`/projects/${projectId}/files`, {
      method: "POST",
      body: form,
      headers: htmx ? { "HX-Request": "true" } : {},
    });
  };
  const links = (projectId: string) =>
    t.database.db
      .select({ fileId: projectFiles.fileId, name: files.name, position: projectFiles.position })
      .from(projectFiles)
      .innerJoin(files, eq(files.id, projectFiles.fileId))
      .where(eq(projectFiles.projectId, projectId))
      .orderBy(projectFiles.position);
  const fileRow = async (id: string) => (await t.database.db.select().from(files).where(eq(files.id, id)))[0];

  /** A chat in the project, its first message sent from the new-chat page's form; its id. */
  const newChat = async (projectId: string, content: string) => {
    const made = await server.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content, project: projectId }),
    });
    expect(made.status).toBe(303);
    return /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
  };
  const requestFor = (text: string) =>
    fake.requests.find((r) => r.body.stream && JSON.stringify(r.body.messages.at(-1)).includes(text));
  const waitFor = async (check: () => unknown) => {
    for (let i = 0; i < 400 && !check(); i++) await Bun.sleep(25);
    expect(check()).toBeTruthy();
  };
  /** Sends over a socket on the chat; everything the tab received until the answer finished. */
  async function send(chatId: string, content: string) {
    const ws = await server.socket(`/ws?chat=${chatId}`);
    const shown = await ws.waitFor((m) => m.includes('id="transcript-live"'));
    // The chat's first answer may still be written: its end comes first.
    await endOfShown(ws, shown);
    const from = ws.messages.length;
    ws.send({ action: "send", chat: chatId, content });
    // The fragment that begins this exchange, not the end of an answer before it.
    const first = await ws.waitFor((m) => m.includes(`>${content}</div>`) && assistantId(m) !== undefined, { from });
    await ws.waitFor(finished(assistantId(first)!), { from });
    const all = ws.messages.slice(from).join("\n");
    await ws.close();
    return all;
  }

  test("files added on the project's page are listed in upload order, and go first in every chat's request, each as an attachment goes", async () => {
    const projectId = await makeProject(server, "Bakery", "fake/vision");
    const picture = png(5, 4, 3);
    const recipe = text("Rye: 70 % hydration, 2 h proof.\n");
    const report = pdf("Oven at 240 degrees");
    // A plain form: back to the page, which lists them.
    const plain = await addFiles(server, projectId, [
      file(recipe, "rye.txt", "text/plain"),
      file(picture, "crumb.png", "image/png"),
    ]);
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe(`/projects/${projectId}?done=files-added#files`);
    // htmx: the section alone, saying what was done; the same bytes again are the same file, not a second.
    const swapped = await addFiles(
      server,
      projectId,
      [file(report, "oven.pdf", "application/pdf"), file(recipe, "rye.txt")],
      true,
    );
    expect(swapped.status).toBe(200);
    const part = await swapped.text();
    expect(part).toStartWith('<div id="project-files"');
    expect(part).toContain(
      "Added “oven.pdf”: sent with every chat in the project. “rye.txt” was in the project already.",
    );
    expect((await links(projectId)).map((l) => l.name)).toEqual(["rye.txt", "crumb.png", "oven.pdf"]);

    const page = await (await server.fetch(`/projects/${projectId}?done=files-added`)).text();
    expect(page).toContain("The files are added");
    const listed = [...page.matchAll(/<li data-file="[^"]+"[^>]*>.*?<\/li>/gs)].map((m) => m[0]);
    expect(listed.map((li) => /download="([^"]+)"/.exec(li)![1])).toEqual(["rye.txt", "crumb.png", "oven.pdf"]);
    expect(listed[0]).toContain(">Text<");
    expect(listed[1]).toContain(">Image<");
    expect(listed[2]).toContain(">PDF<");
    expect(listed[0]).toContain(`>${recipe.length} bytes<`);

    // A chat in the project: instructions, then the files in their order, then the question.
    const chatId = await newChat(projectId, "How long is the proof?");
    await waitFor(() => requestFor("How long is the proof?"));
    const sent = requestFor("How long is the proof?")!.body;
    expect(sent.messages[0]).toEqual({ role: "system", content: "You help with Bakery." });
    expect(sent.messages[1]).toEqual({
      role: "user",
      content: [
        { type: "text", text: PROJECT_FILES_INTRO },
        { type: "text", text: `Attached file “rye.txt”:\n\`\`\`\n${recipe.toString()}\n\`\`\`` },
        { type: "text", text: "Attached image “crumb.png”:" },
        { type: "image_url", image_url: { url: dataUrl("image/png", picture) } },
        { type: "file", file: { filename: "oven.pdf", file_data: dataUrl("application/pdf", report) } },
      ],
    });
    expect(sent.messages.slice(2)).toEqual([{ role: "user", content: "How long is the proof?" }]);
    // A PDF among them: the request says how to read it.
    expect(sent.plugins).toBeDefined();

    // The chat's page says its project's files go with it; the next turn sends them again.
    const chatPage = await (await server.fetch(`/chats/${chatId}`)).text();
    expect(/<p id="chat-project".*?<\/p>/.exec(chatPage)![0]).toContain("· with its 3 files");
    await send(chatId, "And the oven?");
    const again = requestFor("And the oven?")!.body.messages;
    expect(again.map((m) => m.role)).toEqual(["system", "user", "user", "assistant", "user"]);
    expect(JSON.stringify(again[1])).toContain("oven.pdf");
  });

  test("a model whose context cannot hold them all gets those that fit, and the person is told which were left out", async () => {
    const projectId = await makeProject(server, "Small model", "fake/tiny");
    // About 1,340 tokens each; the budget is 2,250: the first fits, the second does not, nor the third after it.
    await addFiles(server, projectId, [
      file(text("a".repeat(4000)), "first.txt"),
      file(text("b".repeat(4000)), "second.txt"),
      file(text("c".repeat(10)), "third.txt"),
    ]);
    const chatId = await newChat(projectId, "Hello small");
    await waitFor(() => requestFor("Hello small"));
    const shown = await send(chatId, "Which files?");
    const sent = JSON.stringify(requestFor("Which files?")!.body.messages);
    expect(sent).toContain("first.txt");
    expect(sent).not.toContain("second.txt");
    expect(sent).not.toContain("third.txt");
    expect(shown).toContain(
      "Too long for Fake Tiny with all the project&#x27;s files: “second.txt”, “third.txt” were left out of this answer&#x27;s request.",
    );
  });

  test("refusals say why, and add nothing: an unsupported kind, a file too large, storage full, too many files", async () => {
    const projectId = await makeProject(server, "Refusals", "fake/fast");
    const refused = async (sent: File[], status: number, sentence: string) => {
      const plain = await addFiles(server, projectId, sent);
      expect([plain.status, (await plain.text()).includes(sentence)]).toEqual([status, true]);
      // htmx swaps 422s only (the layout's htmx-config): the section with the sentence.
      const swapped = await addFiles(server, projectId, sent, true);
      expect(swapped.status).toBe(422);
      expect(await swapped.text()).toContain(sentence);
    };
    await refused(
      [file(new Uint8Array([0, 1, 2, 3, 255]), "blob.bin")],
      422,
      "“blob.bin” is not a kind of file Parley takes",
    );
    await refused([file(text("x".repeat(1024 * 1024 + 1)), "big.txt")], 413, "“big.txt” is larger than 1 MB");
    const many = Array.from({ length: 21 }, (_, i) => file(text(`note ${i}`), `note-${i}.txt`));
    await refused(many, 413, "A project can hold at most 20 files; this one has 0, and this upload has 21.");
    // Storage: 3 MB per person, and about 0.9 MB each.
    for (const i of [1, 2, 3]) await addFiles(server, projectId, [file(text(`${i}`.repeat(900_000)), `part-${i}.txt`)]);
    await refused([file(text("9".repeat(900_000)), "part-4.txt")], 413, "Your files may take at most 3 MB");
    expect((await links(projectId)).map((l) => l.name)).toEqual(["part-1.txt", "part-2.txt", "part-3.txt"]);
    for (const l of await links(projectId)) {
      await server.fetch(`/projects/${projectId}/files/${l.fileId}/delete`, { method: "POST" });
    }
    expect(await links(projectId)).toEqual([]);
  });

  test("removing a file takes it out of the project alone; one a message holds stays there; deleting the project frees its files", async () => {
    const projectId = await makeProject(server, "Removals", "fake/fast");
    await addFiles(server, projectId, [
      file(text("kept by a message"), "held.txt"),
      file(text("only here"), "loose.txt"),
    ]);
    const [held, loose] = await links(projectId);
    // A message of a chat carries held.txt too.
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: server.user.id, title: "Holds a file", model: "fake/fast" })
      .returning();
    const ws = await server.socket(`/ws?chat=${chat!.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    ws.send({ action: "send", chat: chat!.id, content: "Keep this", attachment: [held!.fileId] });
    await ws.waitFor((m) => m.includes('data-role="user"'));
    await ws.close();

    const removed = await server.fetch(`/projects/${projectId}/files/${held!.fileId}/delete`, {
      method: "POST",
      headers: { "HX-Request": "true" },
    });
    expect(removed.status).toBe(200);
    const part = await removed.text();
    expect(part).toContain("“held.txt” is out of the project.");
    expect(part).not.toContain('download="held.txt"');
    expect(part).toContain('download="loose.txt"');
    expect(await fileRow(held!.fileId)).toBeDefined();
    expect(await t.database.db.select().from(messageFiles).where(eq(messageFiles.fileId, held!.fileId))).toHaveLength(
      1,
    );
    // Removed again: there is no such file in the project any more.
    const twice = await server.fetch(`/projects/${projectId}/files/${held!.fileId}/delete`, { method: "POST" });
    expect(twice.status).toBe(404);

    // A plain form removes too; a file nothing else holds is deleted with its link.
    await addFiles(server, projectId, [file(text("kept by a message"), "held.txt")]);
    const plain = await server.fetch(`/projects/${projectId}/files/${loose!.fileId}/delete`, { method: "POST" });
    expect(plain.status).toBe(303);
    expect(plain.headers.get("location")).toBe(`/projects/${projectId}?done=file-removed#files`);
    expect(await fileRow(loose!.fileId)).toBeUndefined();

    // Deleting the project: its links go, its file is kept while a message holds it.
    await addFiles(server, projectId, [file(text("only the project"), "project-only.txt")]);
    const only = (await links(projectId)).find((l) => l.name === "project-only.txt")!;
    await server.fetch(`/projects/${projectId}/delete`, {
      method: "POST",
      body: new URLSearchParams({ chats: "keep" }),
    });
    expect(await t.database.db.select().from(projects).where(eq(projects.id, projectId))).toEqual([]);
    expect(await links(projectId)).toEqual([]);
    expect(await fileRow(held!.fileId)).toBeDefined();
    expect(await fileRow(only.fileId)).toBeUndefined();
  });

  test("another person can neither add to nor remove from someone's project, nor send its files", async () => {
    const projectId = await makeProject(server, "Private", "fake/fast");
    await addFiles(server, projectId, [file(text("The owner's secret recipe"), "secret.txt")]);
    const [secret] = await links(projectId);
    const unknown = "01900000-0000-7000-8000-000000000000";
    for (const path of [`/projects/${projectId}/files`, `/projects/${projectId}/files/${secret!.fileId}/delete`]) {
      const form = new FormData();
      form.append("file", file(text("bob's"), "bob.txt"));
      const theirs = await bob.fetch(path, { method: "POST", body: form });
      const none = await bob.fetch(path.replace(projectId, unknown), { method: "POST", body: form });
      expect([theirs.status, none.status]).toEqual([404, 404]);
      expect((await theirs.text()).replaceAll(projectId, "ID")).toBe((await none.text()).replaceAll(unknown, "ID"));
    }
    // Bob's own project cannot name the owner's file to remove it.
    const bobs = await makeProject(bob, "Bob's", "fake/fast");
    const sneaky = await bob.fetch(`/projects/${bobs}/files/${secret!.fileId}/delete`, { method: "POST" });
    expect(sneaky.status).toBe(404);
    expect((await links(projectId)).map((l) => l.name)).toEqual(["secret.txt"]);
    // A chat of bob's moved nowhere near it sends nothing of it.
    const made = await bob.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "Bob asks", project: bobs }),
    });
    expect(made.status).toBe(303);
    await waitFor(() => requestFor("Bob asks"));
    expect(JSON.stringify(requestFor("Bob asks")!.body)).not.toContain("secret");
  });

  test("the export carries a project's files after the chats; an import that makes the project gives it them, one that finds it leaves it as it is", async () => {
    const ann = await server.signUp("ann-exports-files");
    const projectId = await makeProject(ann, "Ledger", "fake/fast");
    const notes = text("Columns: date, amount, payee.");
    expect((await addFiles(ann, projectId, [file(notes, "columns.txt"), file(png(3, 3, 7), "logo.png")])).status).toBe(
      303,
    );
    const made = await ann.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "Sum the column", project: projectId }),
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    await waitFor(async () => (await t.database.db.select().from(chats).where(eq(chats.id, chatId))).length === 1);

    const whole = await (await ann.fetch("/account/export.json")).text();
    const one = await (await ann.fetch(`/chats/${chatId}/export.json`)).text();
    for (const exported of [whole, one]) {
      const doc = JSON.parse(exported);
      expect(doc.projects).toEqual([
        {
          name: "Ledger",
          files: [
            expect.objectContaining({
              name: "columns.txt",
              type: "text/plain",
              data: Buffer.from(notes).toString("base64"),
            }),
            expect.objectContaining({ name: "logo.png", type: "image/png" }),
          ],
        },
      ]);
    }
    // A file with no project's files says nothing of projects.
    expect(JSON.parse(await (await bob.fetch("/account/export.json")).text()).projects).toBeUndefined();

    // Into an account without the project: made, with its files in order.
    const cy = await server.signUp("cy-imports-files");
    const importing = async (who: Person, body: string) => {
      const form = new FormData();
      form.append("file", new File([body], "export.json", { type: "application/json" }));
      return who.fetch("/account/import", { method: "POST", body: form, redirect: "manual" });
    };
    expect((await importing(cy, whole)).status).toBe(303);
    const [ledger] = await t.database.db.select().from(projects).where(eq(projects.userId, cy.user.id));
    expect((await links(ledger!.id)).map((l) => l.name)).toEqual(["columns.txt", "logo.png"]);
    const owners = await Promise.all((await links(ledger!.id)).map(async (l) => (await fileRow(l.fileId))!.userId));
    expect(owners).toEqual([cy.user.id, cy.user.id]);

    // Into an account that has a project of that name: its files stay its own.
    const dee = await server.signUp("dee-imports-files");
    const theirs = await makeProject(dee, "Ledger", "fake/fast");
    expect((await importing(dee, one)).status).toBe(303);
    expect(await links(theirs)).toEqual([]);
  });

  test("the open tabs of the project's chats hear its new count of files as files are added and removed", async () => {
    const projectId = await makeProject(server, "Counted", "fake/fast");
    const chatId = await newChat(projectId, "Count them");
    const tab = await server.socket(`/ws?chat=${chatId}`);
    await tab.waitFor((m) => m.includes('id="transcript-live"'));
    let from = tab.messages.length;
    expect(
      (await addFiles(server, projectId, [file(text("one"), "one.txt"), file(text("two"), "two.txt")])).status,
    ).toBe(303);
    await tab.waitFor((m) => m.includes('id="chat-project"') && m.includes("Counted") && m.includes("2 files"), {
      from,
    });
    const [first] = await links(projectId);
    from = tab.messages.length;
    const removed = await server.fetch(`/projects/${projectId}/files/${first!.fileId}/delete`, { method: "POST" });
    expect(removed.status).toBe(303);
    await tab.waitFor((m) => m.includes('id="chat-project"') && m.includes("Counted") && !m.includes("2 files"), {
      from,
    });
    tab.close();
  });
});
