import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messages, projects } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer, twoInstances } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const UNKNOWN = "01900000-0000-7000-8000-000000000000";

eachDriver("projects", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob-the-other");
  });
  afterAll(() => server.stop());

  const post = (who: Person, path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    who.fetch(path, { method: "POST", body: new URLSearchParams(form), headers, redirect: "manual" });
  const waitFor = async (check: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 400 && !(await check()); i++) await Bun.sleep(25);
    if (!(await check())) throw new Error("condition never held");
  };
  const projectNamed = async (who: Person, name: string) =>
    (await t.database.db.select().from(projects).where(eq(projects.userId, who.user.id))).find((p) => p.name === name);
  const chatRow = async (id: string) => (await t.database.db.select().from(chats).where(eq(chats.id, id)))[0];
  const newChat = async (who: Person, form: Record<string, string>) => {
    const made = await post(who, "/chats", { model: "fake/fast", ...form });
    expect(made.status).toBe(303);
    return /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
  };
  const garden = {
    name: "Garden",
    model: "fake/fast",
    system_prompt: "You help with a vegetable garden.",
    temperature: "0.3",
    max_tokens: "500",
  };

  test("made on the Projects page, shown and changed on its own page; bad values are refused and nothing is saved", async () => {
    const made = await post(server, "/projects", garden);
    expect(made.status).toBe(303);
    const project = (await projectNamed(server, "Garden"))!;
    expect(made.headers.get("location")).toBe(`/projects/${project.id}?done=created`);
    expect(project).toMatchObject({
      model: "fake/fast",
      systemPrompt: "You help with a vegetable garden.",
      temperature: 0.3,
      maxTokens: 500,
    });
    const page = await (await server.fetch(`/projects/${project.id}?done=created`)).text();
    expect(page).toContain("The project is made.");
    expect(page).toContain('id="project-instructions"');
    expect(page).toContain("You help with a vegetable garden.");
    expect(page).toContain(`href="/?project=${project.id}"`);
    expect(await (await server.fetch("/projects")).text()).toContain(`href="/projects/${project.id}"`);

    for (const [bad, sentence] of [
      [{ name: "" }, "Give the project a name."],
      [{ name: "Garden" }, "You already have a project named “Garden”"],
      [{ temperature: "9" }, "Temperature must be a number from 0 to 2"],
    ] as const) {
      const res = await post(server, "/projects", { ...garden, ...bad });
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(await res.text()).toContain(sentence);
    }
    expect((await t.database.db.select().from(projects).where(eq(projects.userId, server.user.id))).length).toBe(1);

    // Edited: new instructions, and no model of its own (the person's usual one).
    const saved = await post(server, `/projects/${project.id}`, {
      ...garden,
      system_prompt: "Be practical.",
      model: "",
    });
    expect([saved.status, saved.headers.get("location")]).toEqual([303, `/projects/${project.id}?done=saved`]);
    expect(await projectNamed(server, "Garden")).toMatchObject({ systemPrompt: "Be practical.", model: null });
    await post(server, `/projects/${project.id}`, garden);
  });

  test("a new chat in a project starts from its defaults; the request upstream has its instructions first, then the chat's system prompt", async () => {
    const project = (await projectNamed(server, "Garden"))!;
    const page = await (await server.fetch(`/?project=${project.id}`)).text();
    expect(page).toContain(`<input type="hidden" name="project" value="${project.id}" form="composer"/>`);
    expect(page).toContain("New chat in the project <strong>Garden</strong>");
    expect(page).toContain('<option value="fake/fast" selected ');

    const chatId = await newChat(server, { content: "When do I sow peas?", project: project.id });
    expect(await chatRow(chatId)).toMatchObject({
      projectId: project.id,
      temperature: 0.3,
      maxTokens: 500,
      // The instructions stay the project's: changed there, every chat in it follows.
      systemPrompt: null,
    });
    const request = (text: string) =>
      fake.requests.find((r) => r.body.stream && r.body.messages.at(-1)?.content === text);
    await waitFor(() => request("When do I sow peas?") !== undefined);
    expect(request("When do I sow peas?")!.body.messages).toEqual([
      { role: "system", content: "You help with a vegetable garden." },
      { role: "user", content: "When do I sow peas?" },
    ]);
    expect(request("When do I sow peas?")!.body.temperature).toBe(0.3);

    // The chat's own system prompt follows the project's instructions.
    await waitFor(async () =>
      (await t.database.db.select().from(messages).where(eq(messages.chatId, chatId))).every(
        (m) => m.status !== "streaming",
      ),
    );
    await post(server, `/chats/${chatId}/settings`, { system_prompt: "Answer in one line." });
    const ws = await server.socket(`/ws?chat=${chatId}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    ws.send({ action: "send", chat: chatId, content: "And beans?" });
    await waitFor(() => request("And beans?") !== undefined);
    expect(request("And beans?")!.body.messages.filter((m) => m.role === "system")).toEqual([
      { role: "system", content: "You help with a vegetable garden." },
      { role: "system", content: "Answer in one line." },
    ]);
    ws.close();

    // Its page names its project; the sidebar lists it under the project, not among the others.
    const chatPage = await (await server.fetch(`/chats/${chatId}`)).text();
    expect(chatPage).toContain(`In the project <a href="/projects/${project.id}"`);
    const groups = /<section id="project-groups"[\s\S]*?<\/section>/.exec(chatPage)![0];
    expect(groups).toContain(`href="/chats/${chatId}"`);
    const nav = /<nav id="chat-nav"[\s\S]*?<\/nav>/.exec(chatPage)![0];
    expect(nav).not.toContain(`href="/chats/${chatId}"`);
  });

  test("a chat moves into a project and out again; search can be limited to a project", async () => {
    const project = (await projectNamed(server, "Garden"))!;
    const chatId = await newChat(server, { content: "Tomatoes need staking" });
    expect((await chatRow(chatId))!.projectId).toBeNull();

    const menu = await (await server.fetch(`/chats/${chatId}/move`)).text();
    expect(menu).toContain(`name="project" value="${project.id}"`);
    expect(menu).toContain("No project");

    const tab = await server.socket(`/ws?chat=${chatId}`);
    await tab.waitFor((m) => m.includes('id="transcript-live"'));
    const from = tab.messages.length;
    const htmx = { "HX-Request": "true" };
    expect((await post(server, `/chats/${chatId}/project`, { project: project.id }, htmx)).status).toBe(204);
    expect((await chatRow(chatId))!.projectId).toBe(project.id);
    // Its open tab says so, and the person's chat list is pushed without it; the project's group,
    // which a tab loads as it opens it (and again after each push), lists it.
    await tab.waitFor((m) => m.includes('id="chat-project"') && m.includes("Garden"), { from });
    await tab.waitFor(
      (m) => m.includes('id="project-groups"') && m.includes('id="chat-nav"') && !m.includes(`href="/chats/${chatId}"`),
      { from },
    );
    const group = async () => (await server.fetch(`/projects/${project.id}/chats`)).text();
    expect(await group()).toContain(`href="/chats/${chatId}"`);

    // Pinned, it heads the list and leaves its group (as pinned chats leave the list below).
    expect((await post(server, `/chats/${chatId}/pin`, {})).status).toBe(303);
    expect(await group()).not.toContain(`href="/chats/${chatId}"`);
    const pinnedPage = await (await server.fetch(`/chats/${chatId}`)).text();
    expect(/<nav id="chat-nav"[\s\S]*?<\/nav>/.exec(pinnedPage)![0]).toContain(`href="/chats/${chatId}"`);
    expect((await post(server, `/chats/${chatId}/pin`, { pinned: "false" })).status).toBe(303);
    expect(await group()).toContain(`href="/chats/${chatId}"`);

    const search = async (q: string, projectId?: string) =>
      (await server.fetch(`/search?q=${q}${projectId === undefined ? "" : `&project=${projectId}`}`)).text();
    await waitFor(async () => (await search("staking")).includes(chatId));
    expect(await search("staking", project.id)).toContain(chatId);
    expect(await search("staking", UNKNOWN)).not.toContain(chatId);

    // As a plain form (no script): back to the chat's page.
    const plain = await post(server, `/chats/${chatId}/project`, { project: "" });
    expect([plain.status, plain.headers.get("location")]).toEqual([303, `/chats/${chatId}`]);
    expect((await chatRow(chatId))!.projectId).toBeNull();
    expect(await search("staking", project.id)).not.toContain(chatId);
    expect(await search("staking")).toContain(chatId);
    tab.close();
  });

  test("deleting a project keeps its chats (out of it) or deletes them too, as the person chooses, and says how many", async () => {
    await post(server, "/projects", { name: "Keep" });
    await post(server, "/projects", { name: "Drop" });
    const keep = (await projectNamed(server, "Keep"))!;
    const drop = (await projectNamed(server, "Drop"))!;
    const kept = await newChat(server, { content: "A kept chat", project: keep.id });
    const dropped = [
      await newChat(server, { content: "A dropped chat", project: drop.id }),
      await newChat(server, { content: "Another dropped chat", project: drop.id }),
    ];
    const page = await (await server.fetch(`/projects/${drop.id}`)).text();
    expect(page).toContain("It holds 2 chats.");
    expect(page).toContain("Delete project and 2 chats");

    const keptRes = await post(server, `/projects/${keep.id}/delete`, { chats: "keep" });
    expect([keptRes.status, keptRes.headers.get("location")]).toEqual([303, "/projects?done=deleted"]);
    expect(await projectNamed(server, "Keep")).toBeUndefined();
    expect(await chatRow(kept)).toMatchObject({ projectId: null, title: expect.any(String) });

    const dropRes = await post(server, `/projects/${drop.id}/delete`, { chats: "delete" });
    expect([dropRes.status, dropRes.headers.get("location")]).toEqual([303, "/projects?done=deleted-chats"]);
    for (const id of dropped) expect(await chatRow(id)).toBeUndefined();
  });

  test("an export carries each chat's project; importing it makes the project again where the person has none, and old files still import", async () => {
    const ann = await server.signUp("ann-exports");
    await post(ann, "/projects", { ...garden, name: "Orchard", system_prompt: "Fruit trees only." });
    const orchard = (await projectNamed(ann, "Orchard"))!;
    const inside = await newChat(ann, { content: "Pruning apples", project: orchard.id });
    await newChat(ann, { content: "Outside any project" });
    await waitFor(async () => (await t.database.db.select().from(messages)).every((m) => m.status !== "streaming"));

    const file = await (await ann.fetch("/account/export.json")).text();
    const doc = JSON.parse(file);
    const exported = doc.chats.find((c: { title: string }) => c.title.includes("Pruning"));
    expect(exported.project).toEqual({
      name: "Orchard",
      instructions: "Fruit trees only.",
      model: "fake/fast",
      temperature: 0.3,
      maxTokens: 500,
      reasoningEffort: null,
      pdfEngine: null,
    });
    expect(doc.chats.find((c: { title: string }) => c.title.includes("Outside")).project).toBeUndefined();
    expect((await ann.fetch(`/chats/${inside}/export.json`).then((r) => r.json())).chats[0].project.name).toBe(
      "Orchard",
    );

    // Into another account: the project is made, with its instructions and defaults, and holds the chat.
    const cy = await server.signUp("cy-imports");
    const form = new FormData();
    form.append("file", new File([file], "export.json", { type: "application/json" }));
    expect((await cy.fetch("/account/import", { method: "POST", body: form, redirect: "manual" })).status).toBe(303);
    const made = (await projectNamed(cy, "Orchard"))!;
    expect(made).toMatchObject({
      systemPrompt: "Fruit trees only.",
      model: "fake/fast",
      temperature: 0.3,
      maxTokens: 500,
    });
    const cysChats = await t.database.db.select().from(chats).where(eq(chats.userId, cy.user.id));
    expect(cysChats.map((c) => [c.title.includes("Pruning") ? "pruning" : "outside", c.projectId]).sort()).toEqual([
      ["outside", null],
      ["pruning", made.id],
    ]);

    // A file from before projects (no "project" at all) imports as before, outside any project.
    const old = JSON.parse(file);
    for (const c of old.chats) {
      delete c.project;
      c.title = `${c.title} (old)`;
    }
    const oldForm = new FormData();
    oldForm.append("file", new File([JSON.stringify(old)], "old.json", { type: "application/json" }));
    const dee = await server.signUp("dee-old-file");
    expect((await dee.fetch("/account/import", { method: "POST", body: oldForm, redirect: "manual" })).status).toBe(
      303,
    );
    const deesChats = await t.database.db.select().from(chats).where(eq(chats.userId, dee.user.id));
    expect(deesChats.map((c) => c.projectId)).toEqual([null, null]);
  });

  test("another person's project answers exactly like one that does not exist, and nothing of it changes", async () => {
    const project = (await projectNamed(server, "Garden"))!;
    const bobsChat = await newChat(bob, { content: "Bob's own chat" });
    const before = await projectNamed(server, "Garden");
    expect(await (await bob.fetch("/projects")).text()).not.toContain("Garden");
    expect(await (await bob.fetch("/")).text()).not.toContain("Garden");
    for (const [method, path, form] of [
      ["GET", "/projects/ID", undefined],
      ["GET", "/projects/ID/chats", undefined],
      ["POST", "/projects/ID", { name: "Taken over", system_prompt: "x" }],
      ["POST", "/projects/ID/delete", { chats: "delete" }],
      ["GET", "/?project=ID", undefined],
      ["POST", `/chats/${bobsChat}/project`, { project: "ID" }],
    ] as const) {
      const init = form ? { method, body: new URLSearchParams(form) } : { method };
      const theirs = await bob.fetch(path.replace("ID", project.id), init);
      const none = await bob.fetch(path.replace("ID", UNKNOWN), init);
      expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
      expect((await theirs.text()).replaceAll(project.id, "ID")).toBe((await none.text()).replaceAll(UNKNOWN, "ID"));
    }
    // A chat cannot be started in it either.
    const refused = await post(bob, "/chats", { content: "Sneak in", model: "fake/fast", project: project.id });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("There is no such project");
    expect((await chatRow(bobsChat))!.projectId).toBeNull();
    expect(await (await bob.fetch(`/search?q=vegetable&project=${project.id}`)).text()).not.toContain("peas");
    expect(await projectNamed(server, "Garden")).toEqual(before);
  });
});

describe.if(DRIVERS.includes("postgres"))("projects on two instances", () => {
  const pair = twoInstances(() => fakeEnv(fake));

  test("a project made, a chat moved and a project deleted on one instance reach the person's tab on the other", async () => {
    const { a, b } = pair;
    const onB = await b.signIn("tester");
    const made = await a.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "Seen from elsewhere", model: "fake/fast" }),
      redirect: "manual",
    });
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const tab = await onB.socket(`/ws?chat=${chatId}`);
    await tab.waitFor((m) => m.includes('id="transcript-live"'));

    let from = tab.messages.length;
    const res = await a.fetch("/projects", {
      method: "POST",
      body: new URLSearchParams({ name: "Far away" }),
      redirect: "manual",
    });
    const projectId = /\/projects\/([0-9a-f-]+)/.exec(res.headers.get("location")!)![1]!;
    await tab.waitFor((m) => m.includes('id="project-groups"') && m.includes("Far away"), { from });

    from = tab.messages.length;
    await a.fetch(`/chats/${chatId}/project`, { method: "POST", body: new URLSearchParams({ project: projectId }) });
    await tab.waitFor((m) => m.includes('id="chat-project"') && m.includes("Far away"), { from });
    await tab.waitFor(
      (m) => m.includes('id="project-groups"') && m.includes('id="chat-nav"') && !m.includes(`href="/chats/${chatId}"`),
      { from },
    );
    expect(await (await onB.fetch(`/projects/${projectId}/chats`)).text()).toContain(`href="/chats/${chatId}"`);

    from = tab.messages.length;
    await a.fetch(`/projects/${projectId}/delete`, {
      method: "POST",
      body: new URLSearchParams({ chats: "keep" }),
      redirect: "manual",
    });
    await tab.waitFor((m) => m.includes('id="chat-project"') && !m.includes("Far away"), { from });
    await tab.waitFor((m) => m.includes('id="project-groups"') && !m.includes("Far away"), { from });
    tab.close();
  });
});
