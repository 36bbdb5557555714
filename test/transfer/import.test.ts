import { afterAll, beforeAll, expect, test } from "bun:test";
import { renderMarkdown } from "../../src/chat/markdown.ts";
import { settingsOf } from "../../src/chat/settings.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { chatgptExport, LISBON_EXPECTED, T0 } from "./chatgpt-fixture.ts";
import { chatsOf, rowCounts, seedChat, upload } from "./support.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const isoMinus = (doc: { chats: { messages: { status: string }[] }[] }) =>
  doc.chats.map((c) => ({
    ...c,
    // An answer being written when exported comes back as interrupted: nothing writes it here.
    messages: c.messages.map((m) => ({ ...m, status: m.status === "streaming" ? "interrupted" : m.status })),
  }));

eachDriver("importing chats", (t) => {
  let server: TestServer;
  let bob: Person;

  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob");
  });
  afterAll(() => server.stop());

  const exportAll = async (who: Person) => {
    const res = await who.fetch("/account/export.json");
    expect(res.status).toBe(200);
    return res.text();
  };

  /** Imports a file and follows the redirect to the summary; returns the summary sentence. */
  const importOk = async (who: Person, file: string) => {
    const res = await upload(who, file);
    const body = await res.text();
    expect([res.status, alertOf(body)]).toEqual([303, undefined]);
    const location = res.headers.get("location")!;
    expect(location).toStartWith("/account/import?");
    const page = await (await who.fetch(location)).text();
    return noticeOf(page);
  };

  test("round trip: export all, delete every chat, import the file: the same chats and messages, the importer's, with new ids", async () => {
    const person = await server.signUp("ann");
    const settings = {
      systemPrompt: "You are a baker.",
      temperature: 0.7,
      maxTokens: 2000,
      reasoningEffort: "low" as const,
      pdfEngine: "ocr" as const,
    };
    await seedChat(t, person.user.id, { title: "Recipes", model: "fake/smart", ...settings }, [
      { role: "user", content: "Bread?" },
      {
        role: "assistant",
        content: "# Bread\n\n- flour\n- water\n\n```sh\nbake --hot\n```",
        reasoning: "Simple.",
        model: "fake/smart",
        promptTokens: 10,
        completionTokens: 20,
        reasoningTokens: 3,
        cachedTokens: 1,
        cost: 0.0042,
        finishReason: "stop",
        finishedAt: new Date("2026-01-02T10:01:05Z"),
      },
      { role: "user", content: "Shorter" },
      { role: "assistant", content: "Flour, water.", status: "stopped", model: "fake/smart" },
    ]);
    await seedChat(t, person.user.id, { title: "Half-written", updatedAt: new Date("2026-01-03T00:00:00Z") }, [
      { role: "user", content: "Go on" },
      // Vouched for (as by another instance still writing it), or the lease sweep would end it first.
      {
        role: "assistant",
        content: "Partly",
        status: "streaming",
        model: "fake/fast",
        leaseUntil: new Date(Date.now() + 3_600_000),
      },
    ]);
    await seedChat(t, person.user.id, { title: "Failed" }, [
      { role: "user", content: "Hi" },
      { role: "assistant", content: "", status: "error", error: "Out of credits.", model: "fake/fast" },
    ]);
    const before = await chatsOf(t, person.user.id);
    const file = await exportAll(person);

    for (const { chat } of before) {
      const res = await person.fetch(`/chats/${chat.id}`, { method: "DELETE" });
      expect(res.status).toBe(204);
    }
    expect(await chatsOf(t, person.user.id)).toEqual([]);

    // The person's open tab hears of the new chats in its list.
    const tab = await person.socket("/ws");
    const from = tab.messages.length;
    expect(await importOk(person, file)).toBe("Imported 3 chats with 8 messages.");
    const pushed = await tab.waitFor((m) => m.includes('id="chat-nav"') && m.includes("Recipes"), { from });
    expect(pushed).toContain("Half-written");
    await tab.close();

    const after = await chatsOf(t, person.user.id);
    expect(after.map((c) => c.chat.title)).toEqual(["Recipes", "Half-written", "Failed"]);
    expect(settingsOf(after[0]!.chat)).toEqual(settings);
    // New ids, never the file's (it has none) nor the old ones.
    const oldIds = new Set(before.flatMap((c) => [c.chat.id, ...c.messages.map((m) => m.id)]));
    for (const { chat, messages } of after) {
      expect(chat.userId).toBe(person.user.id);
      expect(oldIds.has(chat.id)).toBe(false);
      for (const m of messages) expect(oldIds.has(m.id)).toBe(false);
      // Ids in reading order: sorted by id, the messages read as they were written.
      const sorted = [...messages].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(sorted.map((m) => m.content)).toEqual(messages.map((m) => m.content));
      // One branch, shown: each message follows the one before it.
      expect(messages.map((m) => m.parentId)).toEqual([null, ...messages.slice(0, -1).map((m) => m.id)]);
      expect(messages.every((m) => m.active)).toBe(true);
    }
    // Every stored field came back, but for the half-written answer, now interrupted.
    const strip = (rows: typeof before) =>
      rows.map(({ chat, messages }) => ({
        chat: {
          title: chat.title,
          model: chat.model,
          ...settingsOf(chat),
          createdAt: chat.createdAt,
          updatedAt: chat.updatedAt,
        },
        messages: messages.map(({ id: _, chatId: __, parentId: ___, html: ____, ...m }) => m),
      }));
    const expected = strip(before);
    expected[1]!.messages[1]!.status = "interrupted";
    expected[1]!.messages[1]!.leaseUntil = null; // nobody is writing it
    expect(strip(after)).toEqual(expected);
    // The file read back the same, but for that status.
    expect(isoMinus(JSON.parse(await exportAll(person)))).toEqual(isoMinus(JSON.parse(file)));

    // Answers are stored rendered, as an answer's end stores them, and open like any chat's.
    for (const { messages } of after) {
      expect(messages.map((m) => m.html)).toEqual(
        messages.map((m) => (m.role === "assistant" ? renderMarkdown(m.content) : null)),
      );
    }
    const page = await (await person.fetch(`/chats/${after[0]!.chat.id}`)).text();
    expect(page).toContain("<h1>Bread</h1>");
    expect(page).toContain('<code class="language-sh">');
    const home = await (await person.fetch("/")).text();
    for (const title of ["Recipes", "Half-written", "Failed"]) expect(home).toContain(title);

    // Someone else importing the same file gets copies of their own; the first person's stay as they are.
    expect(await importOk(bob, file)).toBe("Imported 3 chats with 8 messages.");
    const bobs = await chatsOf(t, bob.user.id);
    expect(bobs.map((c) => c.chat.title)).toEqual(["Recipes", "Half-written", "Failed"]);
    expect(bobs.every((c) => c.chat.userId === bob.user.id)).toBe(true);
    expect(strip(await chatsOf(t, person.user.id))).toEqual(expected);
    for (const { chat } of bobs) await bob.fetch(`/chats/${chat.id}`, { method: "DELETE" });
  });

  test("the same file imported twice: the second time brings nothing and says the chats are already here", async () => {
    const eve = await server.signUp("eve");
    const chat = (title: string) => ({
      title,
      model: "fake/fast",
      messages: [
        { role: "user", content: `About ${title}` },
        { role: "assistant", content: "Sure." },
      ],
    });
    // No times in the file: each read stands in the time of the import, and still the chats are known.
    const file = JSON.stringify({ format: "parley-chats", version: 1, chats: [chat("One"), chat("Two")] });
    expect(await importOk(eve, file)).toBe("Imported 2 chats with 4 messages.");
    expect(await importOk(eve, file)).toBe(
      "Nothing new to import. 2 chats were already here from an earlier import, and skipped.",
    );
    expect((await chatsOf(t, eve.user.id)).map((c) => c.chat.title)).toEqual(["One", "Two"]);

    // A file with one chat more brings that one; a chat deleted since comes back.
    const [one] = await chatsOf(t, eve.user.id);
    await eve.fetch(`/chats/${one!.chat.id}`, { method: "DELETE" });
    const more = JSON.stringify({
      format: "parley-chats",
      version: 1,
      chats: [chat("One"), chat("Two"), chat("Three")],
    });
    expect(await importOk(eve, more)).toBe(
      "Imported 2 chats with 4 messages. 1 chat was already here from an earlier import, and skipped.",
    );
    expect((await chatsOf(t, eve.user.id)).map((c) => c.chat.title).sort()).toEqual(["One", "Three", "Two"]);
    // Someone else's import of the same file is theirs: nothing of eve's counts as already there.
    expect(await importOk(bob, file)).toBe("Imported 2 chats with 4 messages.");
    for (const { chat } of await chatsOf(t, bob.user.id)) await bob.fetch(`/chats/${chat.id}`, { method: "DELETE" });
  });

  test("an import is the importer's alone: another person does not see it, open it, or export it", async () => {
    const ann = await server.signUp("ann2");
    const file = JSON.stringify({
      format: "parley-chats",
      version: 1,
      chats: [{ title: "Ann's diary", model: "fake/fast", messages: [{ role: "user", content: "dear diary" }] }],
    });
    await importOk(ann, file);
    const [imported] = await chatsOf(t, ann.user.id);
    expect(imported!.chat.title).toBe("Ann's diary");
    expect(await (await bob.fetch("/")).text()).not.toContain("Ann's diary");
    expect((await bob.fetch(`/chats/${imported!.chat.id}`)).status).toBe(404);
    expect((await bob.fetch(`/chats/${imported!.chat.id}/export.json`)).status).toBe(404);
    expect(await exportAll(bob)).not.toContain("dear diary");
  });

  test("ChatGPT's conversations.json: each conversation's branch that ends at current_node, its text messages only", async () => {
    const cara = await server.signUp("cara");
    const file = JSON.stringify(chatgptExport());
    expect(await importOk(cara, file)).toBe(
      "Imported 2 chats with 6 messages. 1 conversation with no text message was left out.",
    );
    const [lisbon, untitled] = await chatsOf(t, cara.user.id);
    expect(lisbon!.chat).toMatchObject({
      title: "Weekend in Lisbon",
      // A ChatGPT model is no model here: the chat goes on with the importer's model.
      model: "fake/fast",
      userId: cara.user.id,
      createdAt: new Date((T0 + 0.123) * 1000),
      updatedAt: new Date((T0 + 130.654) * 1000),
    });
    expect(
      lisbon!.messages.map((m) => ({ role: m.role, content: m.content, createdAt: m.createdAt.getTime() / 1000 })),
    ).toEqual([...LISBON_EXPECTED]);
    expect(lisbon!.messages.map((m) => [m.model, m.status, m.finishReason])).toEqual([
      [null, "complete", null],
      ["gpt-4o", "complete", "stop"],
      [null, "complete", null],
      ["o3", "complete", "stop"],
    ]);
    // Answers are stored with their HTML, as an answer's end stores it; the person's text needs none.
    expect(lisbon!.messages.map((m) => m.html)).toEqual(
      lisbon!.messages.map((m) => (m.role === "assistant" ? renderMarkdown(m.content) : null)),
    );
    expect(untitled!.chat.title).toBe("");
    expect(untitled!.messages.map((m) => [m.role, m.content, m.status, m.finishReason, m.model])).toEqual([
      ["user", "Write a long poem", "complete", null, null],
      ["assistant", "Roses are red,", "stopped", "length", "gpt-4"],
    ]);
    // Messages without times take the conversation's.
    expect(untitled!.messages[0]!.createdAt).toEqual(new Date((T0 + 300.123) * 1000));

    const page = await (await cara.fetch(`/chats/${lisbon!.chat.id}`)).text();
    expect(page).toContain("<strong>Alfama</strong>");
    for (const hidden of [
      "Make it cheaper",
      "Hostels",
      "first try",
      "Sintra is close",
      "I like trains",
      'search("Sintra")',
    ]) {
      expect([hidden, page.includes(hidden)]).toEqual([hidden, false]);
    }
  });

  test("a file larger than the 1 MiB every other request may send is imported", async () => {
    const dan = await server.signUp("dan");
    const long = "A long answer line.\n".repeat(20_000); // 400,000 characters
    const file = JSON.stringify({
      format: "parley-chats",
      version: 1,
      chats: Array.from({ length: 4 }, (_, i) => ({
        title: `Long ${i}`,
        model: "fake/fast",
        messages: [
          { role: "user", content: "Write a lot" },
          { role: "assistant", content: long },
        ],
      })),
    });
    expect(file.length).toBeGreaterThan(1.5 * 1024 * 1024);
    expect(await importOk(dan, file)).toBe("Imported 4 chats with 8 messages.");
    const stored = await chatsOf(t, dan.user.id);
    expect(stored.map((c) => c.messages[1]!.content.length)).toEqual([400_000, 400_000, 400_000, 400_000]);
    // Everywhere else the limit stays 1 MiB.
    const big = await dan.fetch("/chats", { method: "POST", body: new URLSearchParams({ content: long.repeat(3) }) });
    expect(big.status).toBe(413);
  });

  // Each bad file: what is wrong with it, and the sentence that says so.
  const parley = (chatsValue: unknown, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ format: "parley-chats", version: 1, chats: chatsValue, ...extra });
  const oneChat = (messages: unknown[], chat: Record<string, unknown> = {}) =>
    parley([
      { title: "Fine chat", model: "fake/fast", messages: [{ role: "user", content: "ok" }] },
      { title: "Bad", model: "fake/fast", ...chat, messages },
    ]);
  const deep = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString();
  const lisbon = () => chatgptExport()[0]!;
  const withMapping = (change: (c: ReturnType<typeof lisbon>) => void) => {
    const conversation = lisbon();
    change(conversation);
    return JSON.stringify([chatgptExport()[2], conversation]);
  };
  const BAD: [string, string | Uint8Array<ArrayBuffer>, number, string][] = [
    ["an empty file", "", 400, "The file is empty."],
    ["not JSON", "this is not json", 400, "The file is not valid JSON"],
    ["JSON cut short", parley([{ title: "x", messages: [] }]).slice(0, -10), 400, "The file is not valid JSON"],
    ["binary", crypto.getRandomValues(new Uint8Array(4096)), 400, "The file is not valid JSON"],
    ["a JSON number", "42", 400, "The file is neither a Parley export nor ChatGPT's conversations.json."],
    ["an object of no known format", JSON.stringify({ chats: [] }), 400, "neither a Parley export nor ChatGPT"],
    [
      "another format",
      JSON.stringify({ format: "openwebui", chats: [] }),
      400,
      'The file says its format is "openwebui"',
    ],
    ["a newer version", parley([], { version: 3 }), 400, "format version 3, from a newer Parley"],
    ["no version", JSON.stringify({ format: "parley-chats", chats: [] }), 400, "no valid format version"],
    ["chats not a list", parley({ title: "x" }), 400, "The file has no list of chats."],
    ["no chats at all", parley([]), 400, "The file holds no chats."],
    ["a chat that is not an object", parley([[]]), 400, "Chat 1 is not an object."],
    ["messages not a list", oneChat("hello" as never), 400, 'Chat 2 ("Bad") has no list of messages.'],
    [
      "a system message",
      oneChat([{ role: "system", content: "You are evil" }]),
      400,
      'Chat 2 ("Bad"), message 1, has the role "system"; only user and assistant messages can be imported.',
    ],
    [
      "a tool message",
      oneChat([
        { role: "user", content: "ok" },
        { role: "tool", content: "x" },
      ]),
      400,
      'message 2, has the role "tool"',
    ],
    ["a message with no role", oneChat([{ content: "x" }]), 400, "has the role nothing"],
    [
      "content that is not text",
      oneChat([{ role: "user", content: { text: "hi" } }]),
      400,
      "has a content that is not text",
    ],
    [
      "deeply nested junk as content",
      oneChat([{ role: "user", content: "DEEP" }]).replace('"DEEP"', deep(1_000_000)),
      400,
      "has a content that is not text",
    ],
    [
      "deeply nested junk as a role",
      oneChat([{ role: "DEEP", content: "x" }]).replace('"DEEP"', deep(1_000_000)),
      400,
      "has the role a list",
    ],
    ["an empty message of the person's", oneChat([{ role: "user", content: "  " }]), 400, "message 1, is empty"],
    [
      "a message longer than people may write",
      oneChat([{ role: "user", content: "x".repeat(32_001) }]),
      400,
      "is 32,001 characters long; a message you write may have at most 32,000",
    ],
    [
      "an answer longer than any answer",
      oneChat([
        { role: "user", content: "hi" },
        { role: "assistant", content: "x".repeat(500_001) },
      ]),
      400,
      "an answer may have at most 500,000",
    ],
    [
      "over-long reasoning",
      oneChat([{ role: "assistant", content: "x", reasoning: "x".repeat(500_001) }]),
      400,
      "has a reasoning of 500,001 characters; the limit is 500,000",
    ],
    [
      "an over-long title",
      oneChat([], { title: "t".repeat(201) }),
      400,
      "has a title of 201 characters; the limit is 200",
    ],
    ["an over-long model", oneChat([], { model: "m".repeat(201) }), 400, "has a model of 201 characters"],
    [
      "a temperature out of range",
      oneChat([], { temperature: 5 }),
      400,
      'Chat 2 ("Bad"): Temperature must be a number from 0 to 2, such as 0.7 (got “5”).',
    ],
    ["a temperature that is text", oneChat([], { temperature: "hot" }), 400, "has a temperature that is not a number."],
    [
      "max tokens that are no count",
      oneChat([], { maxTokens: 0.5 }),
      400,
      "Max tokens must be a whole number of at least 1",
    ],
    [
      "an unknown reasoning effort",
      oneChat([], { reasoningEffort: "extreme" }),
      400,
      "Reasoning effort must be low, medium or high",
    ],
    [
      "an over-long system prompt",
      oneChat([], { systemPrompt: "p".repeat(32_001) }),
      400,
      "That system prompt is 32,001 characters long; the limit is 32,000.",
    ],
    ["an unknown status", oneChat([{ role: "assistant", content: "x", status: "done" }]), 400, 'has the status "done"'],
    [
      "negative tokens",
      oneChat([{ role: "assistant", content: "x", promptTokens: -1 }]),
      400,
      "has a promptTokens that is not a whole number of tokens",
    ],
    [
      "fractional tokens",
      oneChat([{ role: "assistant", content: "x", completionTokens: 1.5 }]),
      400,
      "completionTokens that is not a whole number",
    ],
    [
      "a cost that is text",
      oneChat([{ role: "assistant", content: "x", cost: "0.1" }]),
      400,
      "has a cost that is not an amount of dollars",
    ],
    [
      "an impossible cost",
      oneChat([{ role: "assistant", content: "x", cost: 1e300 }]),
      400,
      "has a cost that is not an amount of dollars",
    ],
    [
      "a date that is no date",
      oneChat([{ role: "user", content: "x", createdAt: "yesterday" }]),
      400,
      "has a createdAt that is not a time",
    ],
    ["a date in the future", oneChat([], { createdAt: future }), 400, 'Chat 2 ("Bad") has a createdAt in the future.'],
    [
      "too many chats",
      parley(Array.from({ length: 10_001 }, () => ({ messages: [] }))),
      400,
      "The file holds 10,001 chats; at most 10,000 can be imported at once.",
    ],
    [
      "too many messages",
      parley(
        Array.from({ length: 21 }, () => ({
          messages: Array.from({ length: 10_000 }, () => ({ role: "user", content: "x" })),
        })),
      ),
      400,
      "The file holds more than 200,000 messages; at most that many can be imported at once.",
    ],
    // Keys that name Object.prototype's members are only keys: they neither supply fields nor change any object.
    [
      "a message made only of prototype keys",
      `{"format":"parley-chats","version":1,"chats":[{"messages":[{"__proto__":{"role":"user","content":"x"},"constructor":{"prototype":{"polluted":true}}}]}]}`,
      400,
      "Chat 1, message 1, has the role nothing",
    ],
    [
      "prototype keys instead of the format",
      `{"__proto__":{"format":"parley-chats","version":1,"chats":[]}}`,
      400,
      "neither a Parley export nor ChatGPT",
    ],
    [
      "ChatGPT: not a list of conversations",
      JSON.stringify([1, 2]),
      400,
      "Item 1 of the list is not a ChatGPT conversation",
    ],
    [
      "ChatGPT: parents in a loop",
      withMapping((c) => (c.mapping["client-created-root"]!.parent = "a2")),
      400,
      'Conversation 2 ("Weekend in Lisbon") has messages whose parents form a loop.',
    ],
    [
      "ChatGPT: a node its own parent",
      withMapping((c) => (c.mapping.a2!.parent = "a2")),
      400,
      "has messages whose parents form a loop",
    ],
    [
      "ChatGPT: current_node not in the mapping",
      withMapping((c) => (c.current_node = "nowhere")),
      400,
      'names the message "nowhere", which is not in its mapping',
    ],
    [
      "ChatGPT: current_node naming a prototype member",
      withMapping((c) => (c.current_node = "constructor")),
      400,
      'names the message "constructor", which is not in its mapping',
    ],
    [
      "ChatGPT: a parent naming a prototype member",
      withMapping((c) => (c.mapping.u1!.parent = "toString")),
      400,
      'names the message "toString", which is not in its mapping',
    ],
    [
      "ChatGPT: no current_node",
      withMapping((c) => ((c as { current_node?: string }).current_node = undefined)),
      400,
      "has no current_node",
    ],
    [
      "ChatGPT: a message with no author",
      withMapping((c) => ((c.mapping.u1!.message as { author?: unknown }).author = undefined)),
      400,
      "has no author",
    ],
    [
      "ChatGPT: parts that are not a list",
      withMapping(
        (c) => ((c.mapping.u1!.message as { content: unknown }).content = { content_type: "text", parts: "hi" }),
      ),
      400,
      "has content with no list of parts",
    ],
    [
      "ChatGPT: a person's message too long",
      withMapping(
        (c) =>
          ((c.mapping.u1!.message as { content: unknown }).content = {
            content_type: "text",
            parts: ["y".repeat(40_000)],
          }),
      ),
      400,
      "is 40,000 characters long; a message you write may have at most 32,000",
    ],
    [
      "ChatGPT: a time that is text",
      withMapping((c) => ((c.mapping.u1!.message as { create_time: unknown }).create_time = "noon")),
      400,
      "has a create_time that is not a time",
    ],
    [
      "ChatGPT: nothing with text",
      JSON.stringify([chatgptExport()[1]]),
      400,
      "None of the file's 1 conversations has a message with text.",
    ],
  ];

  test("a malformed or hostile file is refused with a sentence that says why, and imports nothing", async () => {
    const fay = await server.signUp("fay");
    await seedChat(t, fay.user.id, { title: "Kept" }, [{ content: "already here" }]);
    for (const [name, file, status, sentence] of BAD) {
      const before = await rowCounts(t);
      const res = await upload(fay, file);
      const body = await res.text();
      expect([name, res.status, res.headers.get("content-type")]).toEqual([name, status, "text/html; charset=utf-8"]);
      const said = alertOf(body) ?? "";
      expect([name, said.includes(sentence), said]).toEqual([name, true, said]);
      expect([name, said.endsWith("Nothing was imported.")]).toEqual([name, true]);
      expect([name, await rowCounts(t)]).toEqual([name, before]);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await chatsOf(t, fay.user.id)).map((c) => c.chat.title)).toEqual(["Kept"]);
  });

  test("prototype keys anywhere in a good file change nothing: the file imports as if they were not there", async () => {
    const gil = await server.signUp("gil");
    const file = `{"format":"parley-chats","version":1,"__proto__":{"chats":[]},"constructor":{"prototype":{"polluted":1}},
      "chats":[{"__proto__":{"title":"evil"},"title":"Real","model":"fake/fast","toString":"x",
        "messages":[{"role":"user","content":"hi","__proto__":{"role":"assistant"},"hasOwnProperty":1}]}]}`;
    expect(await importOk(gil, file)).toBe("Imported 1 chat with 1 message.");
    const [only] = await chatsOf(t, gil.user.id);
    expect(only!.chat.title).toBe("Real");
    expect(only!.messages.map((m) => [m.role, m.content])).toEqual([["user", "hi"]]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test("text is stored as the app stores typed text: line ends as LF, no NUL, no lone surrogate", async () => {
    const jo = await server.signUp("jo");
    const file = `{"format":"parley-chats","version":1,"chats":[{"title":"Odd\\u0000 text","messages":[
      {"role":"user","content":"line one\\r\\nline two\\u0000"},
      {"role":"assistant","content":"half a pair: \\ud800 and a whole one: \\ud83d\\ude00"}]}]}`;
    expect(await importOk(jo, file)).toBe("Imported 1 chat with 2 messages.");
    const [only] = await chatsOf(t, jo.user.id);
    expect(only!.chat.title).toBe("Odd text");
    expect(only!.messages.map((m) => m.content)).toEqual([
      "line one\nline two",
      "half a pair: \ufffd and a whole one: \u{1F600}",
    ]);
  });

  test("a file over the size limit is refused, with the limit in the sentence, before it is read", async () => {
    const hal = await server.signUp("hal");
    const before = await rowCounts(t);
    // Just over: the request is within what a 100 MB file's upload may be; the file itself is read as too large.
    const over = new Uint8Array(100 * 1024 * 1024 + 1).fill(32);
    const res = await upload(hal, over);
    expect(res.status).toBe(413);
    expect(alertOf(await res.text())).toBe(
      "The file is larger than 100 MB, the largest file Parley imports. Nothing was imported.",
    );
    // Far over: refused from the request's length, the body never read.
    const far = await upload(hal, new Uint8Array(120 * 1024 * 1024));
    expect(far.status).toBe(413);
    expect(alertOf(await far.text())).toBe(
      "The file is larger than 100 MB, the largest file Parley imports (this one is about 120 MB). Nothing was imported.",
    );
    expect(await rowCounts(t)).toEqual(before);
  });

  test("the form sent with no file, or not as a form, is refused with a sentence", async () => {
    const ivy = await server.signUp("ivy");
    const empty = new FormData();
    empty.append("file", new File([], ""));
    for (const body of [empty, new URLSearchParams({ file: "x" }), "just text"]) {
      const res = await ivy.fetch("/account/import", { method: "POST", body });
      expect(res.status).toBe(400);
      expect(alertOf(await res.text())).toMatch(
        /^(Choose a file to import\.|The upload could not be read; .*) Nothing was imported\.$/,
      );
    }
  });

  test("a request body sent without a length is refused before it is read, here and everywhere", async () => {
    for (const path of ["/account/import", "/chats"]) {
      const stream = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("content=hello"));
          controller.close();
        },
      });
      const res = await server.fetch(path, {
        method: "POST",
        body: stream,
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expect([path, res.status]).toEqual([path, 411]);
    }
  });

  test("an import from another site is refused, and nobody signed out can import", async () => {
    const before = await rowCounts(t);
    const file = parley([{ title: "Forged", messages: [{ role: "user", content: "x" }] }]);
    const form = new FormData();
    form.append("file", new File([file], "x.json"));
    const crossSite = await server.fetch("/account/import", {
      method: "POST",
      body: form,
      headers: { Origin: "https://evil.example" },
    });
    expect(crossSite.status).toBe(403);
    const nobody = await fetch(`${server.url}/account/import`, {
      method: "POST",
      body: form,
      headers: { Origin: server.url },
    });
    expect(nobody.status).toBe(401);
    expect(await rowCounts(t)).toEqual(before);
  });
});
