import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, presets } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const PRESET_IDS = (html: string) => [...html.matchAll(/data-preset="([0-9a-f-]+)"/g)].map((m) => m[1]!);

eachDriver("presets", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob-the-other");
  });
  afterAll(() => server.stop());

  const post = (who: Person, path: string, form: Record<string, string>) =>
    who.fetch(path, { method: "POST", body: new URLSearchParams(form) });
  const rowsOf = async (who: Person) =>
    t.database.db.select().from(presets).where(eq(presets.userId, who.user.id)).orderBy(presets.name);
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 400 && !check(); i++) await Bun.sleep(25);
    if (!check()) throw new Error("condition never held");
  };
  const tutor = {
    name: "French tutor",
    model: "fake/fast",
    system_prompt: "Answer in French, briefly.",
    temperature: "0.4",
    max_tokens: "800",
    reasoning_effort: "",
  };

  test("made, listed, changed and deleted on the presets page; bad values are refused and nothing is saved", async () => {
    const made = await post(server, "/presets", tutor);
    expect([made.status, made.headers.get("location")]).toEqual([303, "/presets?done=created"]);
    const page = await (await server.fetch("/presets?done=created")).text();
    expect(page).toContain("The preset is saved.");
    expect(page).toContain("French tutor");
    expect(page).toContain("Fake Fast · 33K context");
    expect(page).toContain("System prompt · temperature 0.4 · at most 800 tokens");
    const [id] = PRESET_IDS(page);
    expect(page).toContain(`href="/?preset=${id}"`);
    expect(await rowsOf(server)).toMatchObject([
      {
        name: "French tutor",
        model: "fake/fast",
        systemPrompt: "Answer in French, briefly.",
        temperature: 0.4,
        maxTokens: 800,
        reasoningEffort: null,
      },
    ]);

    const before = await rowsOf(server);
    const refusals: [Record<string, string>, string][] = [
      [{ name: "" }, "Give the preset a name."],
      [
        { name: "French tutor" },
        "You already have a preset named “French tutor”: choose another name, or edit that one.",
      ],
      [{ temperature: "2.5" }, "Temperature must be a number from 0 to 2"],
      [{ max_tokens: "-1" }, "Max tokens must be a whole number of at least 1"],
      [{ reasoning_effort: "high" }, "Fake Fast does not take a reasoning effort"],
      [{ model: "fake/smart", temperature: "1" }, "Fake Smart does not take a temperature"],
      [{ reasoning_effort: "max" }, "Reasoning effort must be low, medium or high"],
    ];
    for (const [bad, sentence] of refusals) {
      const res = await post(server, "/presets", { ...tutor, name: "Another", ...bad });
      const body = await res.text();
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(body.replaceAll("&#39;", "'")).toContain(sentence);
      expect(await rowsOf(server)).toEqual(before);
    }

    const changed = await post(server, `/presets/${id}`, {
      ...tutor,
      name: "Thinker",
      model: "fake/smart",
      temperature: "",
      reasoning_effort: "medium",
      pdf_engine: "ocr",
    });
    expect([changed.status, changed.headers.get("location")]).toEqual([303, "/presets?done=saved"]);
    expect(await rowsOf(server)).toMatchObject([
      {
        id,
        name: "Thinker",
        model: "fake/smart",
        temperature: null,
        maxTokens: 800,
        reasoningEffort: "medium",
        pdfEngine: "ocr",
      },
    ]);
    // The presets page shows the preset's way of reading PDFs chosen in its form.
    const edit = await (await server.fetch("/presets")).text();
    expect(edit).toMatch(/<option value="ocr" selected[^>]*>OCR for scanned PDFs \(paid\)<\/option>/);
    const refused = await post(server, `/presets/${id}`, { ...tutor, temperature: "7" });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('value="7"'); // the edit shown again as typed
    expect((await rowsOf(server))[0]!.name).toBe("Thinker");

    const deleted = await post(server, `/presets/${id}/delete`, {});
    expect([deleted.status, deleted.headers.get("location")]).toEqual([303, "/presets?done=deleted"]);
    expect(await rowsOf(server)).toEqual([]);
    expect((await post(server, `/presets/${id}/delete`, {})).status).toBe(404);
  });

  test("a chat's settings are saved as a preset from its settings dialog", async () => {
    const [chat] = await t.database.db
      .insert(chats)
      .values({
        userId: server.user.id,
        title: "Source",
        model: "fake/smart",
        systemPrompt: "Think hard.",
        maxTokens: 500,
        reasoningEffort: "high",
      })
      .returning();
    const res = await post(server, `/chats/${chat!.id}/preset`, { name: "Deep thought" });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("Saved as the preset <strong>Deep thought</strong>");
    expect((await rowsOf(server)).find((p) => p.name === "Deep thought")).toMatchObject({
      model: "fake/smart",
      systemPrompt: "Think hard.",
      temperature: null,
      maxTokens: 500,
      reasoningEffort: "high",
    });
    const again = await post(server, `/chats/${chat!.id}/preset`, { name: "Deep thought" });
    expect(again.status).toBe(422);
    expect(await again.text()).toContain("You already have a preset named “Deep thought”");
  });

  test("a chat started from a preset has its model, prompt and parameters, and its first request upstream uses them", async () => {
    await post(server, "/presets", { ...tutor, name: "Starter" });
    const id = (await rowsOf(server)).find((p) => p.name === "Starter")!.id;
    const newChat = await (await server.fetch(`/?preset=${id}`)).text();
    expect(newChat).toContain(`<input type="hidden" name="preset" value="${id}" form="composer"/>`);
    expect(newChat).toContain('<option value="fake/fast" selected ');
    expect(newChat).toContain("Starting from the preset <strong>Starter</strong>");

    const made = await post(server, "/chats", { content: "Bonjour ?", model: "fake/fast", preset: id });
    expect(made.status).toBe(303);
    const chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    const [chat] = await t.database.db.select().from(chats).where(eq(chats.id, chatId));
    expect(chat).toMatchObject({
      model: "fake/fast",
      systemPrompt: "Answer in French, briefly.",
      temperature: 0.4,
      maxTokens: 800,
      reasoningEffort: null,
    });
    const request = () => fake.requests.find((r) => r.body.stream && r.body.messages.at(-1)?.content === "Bonjour ?");
    await waitFor(() => request() !== undefined);
    const body = request()!.body;
    expect(body.messages).toEqual([
      { role: "system", content: "Answer in French, briefly." },
      { role: "user", content: "Bonjour ?" },
    ]);
    expect([body.model, body.temperature, body.max_tokens]).toEqual(["fake/fast", 0.4, 800]);
  });

  test("another person's presets answer like ones that do not exist, and cannot be seen, used or changed", async () => {
    await post(server, "/presets", { ...tutor, name: "Private preset" });
    const id = (await rowsOf(server)).find((p) => p.name === "Private preset")!.id;
    const unknown = "01900000-0000-7000-8000-000000000000";
    const before = await rowsOf(server);

    expect(await (await bob.fetch("/presets")).text()).not.toContain("Private preset");
    expect(await (await bob.fetch("/")).text()).not.toContain("Private preset");
    for (const [method, path, form] of [
      ["GET", "/?preset=ID", undefined],
      ["POST", "/presets/ID", { ...tutor, name: "Taken over" }],
      ["POST", "/presets/ID/delete", {}],
    ] as const) {
      const init = form ? { method, body: new URLSearchParams(form) } : { method };
      const theirs = await bob.fetch(path.replace("ID", id), init);
      const none = await bob.fetch(path.replace("ID", unknown), init);
      expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
      const text = await theirs.text();
      expect(text.replaceAll(id, "X")).toBe((await none.text()).replaceAll(unknown, "X"));
      expect(text).not.toContain("Private preset");
    }
    // Starting a chat with it is refused as with an unknown preset, and makes no chat.
    const chatsBefore = (await t.database.db.select().from(chats).where(eq(chats.userId, bob.user.id))).length;
    const used = await post(bob, "/chats", { content: "Use it", model: "fake/fast", preset: id });
    const usedNone = await post(bob, "/chats", { content: "Use it", model: "fake/fast", preset: unknown });
    expect([used.status, usedNone.status]).toEqual([400, 400]);
    expect(await used.text()).toContain("There is no such preset; it may have been deleted.");
    expect((await t.database.db.select().from(chats).where(eq(chats.userId, bob.user.id))).length).toBe(chatsBefore);
    expect(await rowsOf(server)).toEqual(before);
  });
});
