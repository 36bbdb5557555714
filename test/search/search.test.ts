import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chats, messageFiles, messages } from "../../src/db/schema.ts";
import { toTsquery } from "../../src/search/repo.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { file, png, text } from "../files/samples.ts";
import { upload, uploaded } from "../files/support.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

test("only letters and digits reach the tsquery; the last word matches as a prefix", () => {
  expect(toTsquery("Python  decorators")).toBe("python & decorators:*");
  expect(toTsquery("a':*|!(b) <c>")).toBe("a & b & c:*");
  expect(toTsquery("  -- !! ")).toBeUndefined();
  expect(toTsquery("Größe café")).toBe("größe & café:*");
});

eachDriver("searching one's chats", (t) => {
  let server: TestServer;
  let bob: Person;

  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob");
  });
  afterAll(() => server.stop());

  /** A chat with these messages (user and assistant by turns), owned by `userId`. */
  const chatWith = async (userId: string, title: string, contents: string[]) => {
    const [chat] = await t.database.db.insert(chats).values({ userId, title, model: "fake/fast" }).returning();
    const ids: string[] = [];
    for (const [i, content] of contents.entries()) {
      const id = Bun.randomUUIDv7();
      ids.push(id);
      await t.database.db
        .insert(messages)
        .values({ id, chatId: chat!.id, role: i % 2 ? "assistant" : "user", content, status: "complete" });
    }
    return { chat: chat!, ids };
  };
  const search = async (who: Person, q: string) => {
    const res = await who.fetch(`/search?q=${encodeURIComponent(q)}`, { headers: { "HX-Request": "true" } });
    expect(res.status).toBe(200);
    return res.text();
  };

  test("finds a person's chats by message text and by title, marks the matches, and links to the message", async () => {
    const { chat, ids } = await chatWith(server.user.id, "Weekend plans", [
      "How do I write a decorator in Python?",
      "A decorator wraps a function: define a function that takes one and returns another.",
      "Thanks, and what about sourdough?",
      "Feed the starter the day before.",
    ]);
    const titled = await chatWith(server.user.id, "Sourdough starter notes", ["flour and water"]);
    const html = await search(server, "decorators");
    // The newest matching message is the one linked; stemming finds "decorator" from "decorators".
    expect(html).toContain(`href="/chats/${chat.id}?at=${ids[1]}#msg-${ids[1]}"`);
    expect(html).toContain("<mark>decorator</mark>");
    expect(html).not.toContain(titled.chat.id);

    const both = await search(server, "sourdough");
    expect(both).toContain(`href="/chats/${titled.chat.id}"`);
    expect(both).toContain("<mark>Sourdough</mark> starter notes");
    expect(both).toContain(`?at=${ids[2]}`);
    // Most recently active first.
    expect(both.indexOf(titled.chat.id)).toBeLessThan(both.indexOf(chat.id));
  });

  test("words inside HTML and scripts are found and marked, in messages, titles and text files", async () => {
    // A person of their own: the test of hostile queries below expects "<script>" to find nothing.
    const carol = await server.signUp("carol");
    const { chat, ids } = await chatWith(carol.user.id, 'Fix my <div class="kestrel">', [
      "Why does this not run? <script>const answer = computeHarrier(); alert('osprey')</script>",
      "Because computeHarrier is never defined.",
    ]);
    await attach(carol, ids[0]!, [
      file(text("<style>.buzzard { color: red }</style>\n"), "page.html.txt", "text/plain"),
    ]);
    // Postgres's parser leaves out what it takes for tags, and a script's inside, unless told.
    const inScript = await search(carol, "osprey");
    expect(inScript).toContain(`?at=${ids[0]}`);
    expect(inScript).toContain("&lt;script&gt;const answer = computeHarrier(); alert(&#x27;<mark>osprey</mark>&#x27;)");
    expect(await search(carol, "kestrel")).toContain(`href="/chats/${chat.id}"`);
    expect(await search(carol, "kestrel")).toContain("<mark>kestrel</mark>");
    expect(await search(carol, "buzzard")).toContain(`?at=${ids[0]}`);
  });

  test("results come as the person types: the last word matches as a prefix", async () => {
    const { chat } = await chatWith(server.user.id, "Untitled", ["Kubernetes ingress controllers explained"]);
    for (const typed of ["kub", "kubern", "ingress contr"]) expect(await search(server, typed)).toContain(chat.id);
    expect(await search(server, "kubx")).not.toContain(chat.id);
  });

  test("another person's chats never appear, however well they match", async () => {
    const mine = await chatWith(server.user.id, "Mine", ["zanzibar itinerary"]);
    const theirs = await chatWith(bob.user.id, "Bob's zanzibar", ["zanzibar zanzibar zanzibar"]);
    const html = await search(server, "zanzibar");
    expect(html).toContain(mine.chat.id);
    expect(html).not.toContain(theirs.chat.id);
    expect(html).not.toContain("Bob&#39;s");
    const bobs = await search(bob, "zanzibar");
    expect(bobs).toContain(theirs.chat.id);
    expect(bobs).not.toContain(mine.chat.id);
  });

  test("a word in thousands of messages still gives the 20 most recently active chats, each at its newest match", async () => {
    const made: { chatId: string; newest: string }[] = [];
    for (let c = 0; c < 25; c++) {
      const [chat] = await t.database.db
        .insert(chats)
        .values({
          userId: server.user.id,
          title: `Busy ${c}`,
          model: "m",
          updatedAt: new Date(Date.UTC(2030, 0, 1, 0, c)),
        })
        .returning();
      const rows = Array.from({ length: 90 }, (_, i) => ({
        id: Bun.randomUUIDv7(),
        chatId: chat!.id,
        role: (i % 2 ? "assistant" : "user") as "user" | "assistant",
        // The last message does not match: the newest match is the one before it.
        content: i === 89 ? "nothing here" : `ubiquitous word number ${i}`,
      }));
      await t.database.db.insert(messages).values(rows);
      made.push({ chatId: chat!.id, newest: rows[88]!.id });
    }
    const html = await search(server, "ubiquitous");
    const linked = [...html.matchAll(/href="\/chats\/([0-9a-f-]+)\?at=([0-9a-f-]+)#/g)].map((m) => [m[1], m[2]]);
    // Newest activity first: chats 24 down to 5.
    expect(linked).toEqual(
      made
        .slice(5)
        .reverse()
        .map((m) => [m.chatId, m.newest]),
    );
  });

  test("an answer being written is found once it has ended, not before", async () => {
    const { chat } = await chatWith(server.user.id, "Live one", ["tell me about quokkas"]);
    const [answer] = await t.database.db
      .insert(messages)
      .values({ chatId: chat.id, role: "assistant", content: "Quokkas are marsupials", status: "streaming" })
      .returning();
    expect(await search(server, "marsupials")).not.toContain(chat.id);
    await t.database.db.update(messages).set({ status: "complete" }).where(eq(messages.id, answer!.id));
    expect(await search(server, "marsupials")).toContain(`?at=${answer!.id}`);
  });

  test("text from messages and queries is escaped; hostile queries are only words", async () => {
    const { chat } = await chatWith(server.user.id, "<b>bold</b> title", ["<img src=x onerror=alert(1)>needle"]);
    const html = await search(server, "needle");
    expect(html).toContain(chat.id);
    expect(html).toContain("<mark>needle</mark>");
    // Postgres's parser takes part of the tag for text: what reaches the snippet is escaped.
    expect(html).toContain("alert(1)&gt;<mark>needle</mark>");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;b&gt;bold&lt;/b&gt; title");
    for (const q of ["'&|!", "needle:* | a", "<script>alert(1)</script>", "\u0001needle\u0002", "x".repeat(5000)]) {
      const res = await search(server, q);
      expect(res).not.toContain("<script>");
      expect(res).not.toContain("\u0001");
    }
    expect(await search(server, "<script>")).toContain("No chat matches “<span>&lt;script&gt;</span>”.");
    expect(await search(server, "   ")).toBe("");
  });

  test("a result opens the chat at its message, even many pages back, with the newest still below", async () => {
    const contents = Array.from({ length: 130 }, (_, i) => (i === 3 ? "the albatross clause" : `filler ${i}`));
    const { chat, ids } = await chatWith(server.user.id, "Long chat", contents);
    const plain = await (await server.fetch(`/chats/${chat.id}`)).text();
    expect(plain).not.toContain(`id="msg-${ids[3]}"`);
    const at = await (await server.fetch(`/chats/${chat.id}?at=${ids[3]}`)).text();
    expect(at).toContain(`id="msg-${ids[3]}"`);
    expect(at).toContain(`id="msg-${ids[129]}"`);
    expect(at).not.toContain(`id="msg-${ids[2]}"`);
    // Older messages can still be loaded above it.
    expect(at).toContain(`before=${ids[3]}`);
    // An id from another chat, or none at all, opens the newest page.
    const other = await chatWith(server.user.id, "Other", ["x"]);
    const stray = await (await server.fetch(`/chats/${chat.id}?at=${other.ids[0]}`)).text();
    expect(stray).not.toContain(`id="msg-${ids[3]}"`);
    expect(stray).toContain(`id="msg-${ids[129]}"`);
  });

  /** Uploads these files as `who` (POST /files) and attaches them to the message, in order. */
  const attach = async (who: Person, messageId: string, sent: File[]) => {
    const res = await uploaded(await upload(who, sent));
    expect(res.status).toBe(200);
    for (const [position, f] of res.files!.entries()) {
      await t.database.db.insert(messageFiles).values({ messageId, fileId: f.id, position });
    }
    return res.files!;
  };

  test("finds a chat by an attachment's name and by the text of its text files, for their owner only", async () => {
    const baking = await chatWith(server.user.id, "Have a look", ["What do you think?", "Looks fine."]);
    await attach(server, baking.ids[0]!, [
      file(text("Autolyse forty minutes, then fold the dough gently.\n"), "sourdough-schedule.txt", "text/plain"),
    ]);
    const house = await chatWith(server.user.id, "Moving", ["Where should the oven go?"]);
    await attach(server, house.ids[0]!, [file(png(3, 3, 7), "kitchen-floorplan.png", "image/png")]);

    // The name, split into its words: the chat opens at the message that carries the file.
    const byName = await search(server, "floorplan");
    expect(byName).toContain(`/chats/${house.chat.id}?at=${house.ids[0]}`);
    expect(byName).toContain("📎 kitchen-floorplan.png");
    expect(byName).not.toContain(baking.chat.id);
    expect(await search(server, "schedule")).toContain(`?at=${baking.ids[0]}`);
    // The text of a text file, its match marked in the snippet after the file's name.
    const byText = await search(server, "autolyse");
    expect(byText).toContain(`?at=${baking.ids[0]}`);
    expect(byText).toContain("📎 sourdough-schedule.txt: <mark>Autolyse</mark> forty minutes");
    expect(byText).not.toContain(house.chat.id);
    // Where the message's own words match too, the snippet is the message's.
    await attach(server, baking.ids[1]!, [file(text("it looks underproofed"), "looks.txt", "text/plain")]);
    const both = await search(server, "looks");
    expect(both).toContain("<mark>Looks</mark> fine</span>");
    expect(both).not.toContain("looks.txt");

    // Another person with the same file, attached in their own chat: neither sees the other's.
    const bobs = await chatWith(bob.user.id, "Bob's bread", ["mine"]);
    await attach(bob, bobs.ids[0]!, [
      file(text("Autolyse forty minutes, then fold the dough gently.\n"), "sourdough-schedule.txt", "text/plain"),
    ]);
    const bobFinds = await search(bob, "autolyse");
    expect(bobFinds).toContain(bobs.chat.id);
    expect(bobFinds).not.toContain(baking.chat.id);
    expect(await search(server, "autolyse")).not.toContain(bobs.chat.id);

    // A file uploaded but never sent belongs to no chat, so it finds none.
    expect(
      (await uploaded(await upload(server, [file(text("orphaned quince"), "quince.txt", "text/plain")]))).status,
    ).toBe(200);
    expect(await search(server, "quince")).toContain("No chat matches");
  });

  test("a large text file is found by its text, and its snippet is cut between characters", async () => {
    // 13 bytes a round, three-byte characters: the 80,000-byte head ends inside a "€".
    const body = `zebra crossing ${"ライ麦€ ".repeat(7000)}`;
    const { chat, ids } = await chatWith(server.user.id, "Big file", ["see attached"]);
    await attach(server, ids[0]!, [file(text(body), "big.log", "text/plain")]);
    const html = await search(server, "zebra");
    expect(html).toContain(`/chats/${chat.id}?at=${ids[0]}`);
    expect(html).toContain("📎 big.log: <mark>zebra</mark> crossing ライ麦€");
  });

  test("signed out, the search answers nothing", async () => {
    const res = await fetch(`${server.url}/search?q=plans`, { redirect: "manual" });
    expect([302, 303, 401]).toContain(res.status);
    expect(await res.text()).not.toContain("Weekend plans");
  });
});
