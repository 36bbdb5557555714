import { beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { chatMcpServers, chats, users } from "../../src/db/schema.ts";
import {
  chatServerIds,
  createServer,
  deleteServer,
  getServer,
  listServers,
  type ServerValues,
  setChatServers,
  toolsForChat,
  updateServer,
} from "../../src/tools/repo.ts";
import { eachDriver } from "../support/db.ts";

/* The MCP servers' table and which chats use them, on both drivers: what the admin pages and the answer's tool loop read and write. */

const values = (name: string, more: Partial<ServerValues> = {}): ServerValues => ({
  name,
  url: `https://${name.toLowerCase()}.example/mcp`,
  headers: { Authorization: `Bearer token-of-${name}` },
  enabledTools: ["add"],
  requireApproval: false,
  ...more,
});

eachDriver("MCP servers' repo", (t) => {
  let ann: string;
  let bob: string;
  let annChat: string;
  let bobChat: string;
  beforeAll(async () => {
    const db = t.database.db;
    const made = await db
      .insert(users)
      .values([
        { username: "ann", passwordHash: "x" },
        { username: "bob", passwordHash: "x" },
      ])
      .returning();
    [ann, bob] = [made[0]!.id, made[1]!.id];
    const [a, b] = await db
      .insert(chats)
      .values([
        { userId: ann, title: "Ann's", model: "fake/fast" },
        { userId: bob, title: "Bob's", model: "fake/fast" },
      ])
      .returning();
    [annChat, bobChat] = [a!.id, b!.id];
  });

  const made = async (v: ServerValues) => {
    const server = await createServer(t.database.db, v);
    if (server === "taken") throw new Error(`${v.name} is taken`);
    return server;
  };

  test("servers are kept with their headers and listed by name; a name is taken once; unknown ids find nothing", async () => {
    const db = t.database.db;
    const zed = await made(values("Zed", { enabledTools: ["a", "b"], requireApproval: true }));
    const calc = await made(values("Calc"));
    expect(zed).toMatchObject({
      name: "Zed",
      headers: { Authorization: "Bearer token-of-Zed" },
      enabledTools: ["a", "b"],
      requireApproval: true,
    });
    expect((await listServers(db)).map((s) => s.name)).toEqual(["Calc", "Zed"]);
    expect(await createServer(db, values("Calc"))).toBe("taken");
    expect(await updateServer(db, zed.id, { name: "Calc" })).toBe("taken");
    expect(await getServer(db, calc.id)).toEqual(calc);
    for (const id of [crypto.randomUUID(), "not-an-id", 42, undefined]) expect(await getServer(db, id)).toBeUndefined();
    expect(await updateServer(db, crypto.randomUUID(), { name: "X" })).toBeUndefined();
    expect(await updateServer(db, "not-an-id", { name: "X" })).toBeUndefined();
    expect(await deleteServer(db, "not-an-id")).toBeUndefined();

    const renamed = await updateServer(db, zed.id, { name: "Alpha", enabledTools: ["b"] });
    expect(renamed).toMatchObject({ name: "Alpha", enabledTools: ["b"], requireApproval: true });
    expect((renamed as { updatedAt: Date }).updatedAt.getTime()).toBeGreaterThanOrEqual(zed.updatedAt.getTime());
    expect((await deleteServer(db, zed.id))?.name).toBe("Alpha");
    expect(await deleteServer(db, zed.id)).toBeUndefined();
    await deleteServer(db, calc.id);
    expect(await listServers(db)).toEqual([]);
  });

  test("a chat uses the servers its person chooses; another person's chat is refused and left as it was", async () => {
    const db = t.database.db;
    const one = await made(values("One"));
    const two = await made(values("Two"));
    expect(await chatServerIds(db, ann, annChat)).toEqual([]);
    expect(await setChatServers(db, ann, annChat, [one.id, two.id, one.id])).toBe(true);
    expect((await chatServerIds(db, ann, annChat))!.sort()).toEqual([one.id, two.id].sort());

    // Bob may neither read nor change Ann's chat; nor may anyone reach a chat that is not there.
    expect(await chatServerIds(db, bob, annChat)).toBeUndefined();
    expect(await setChatServers(db, bob, annChat, [])).toBe(false);
    expect(await setChatServers(db, ann, crypto.randomUUID(), [one.id])).toBe(false);
    expect(await setChatServers(db, ann, "not-an-id", [one.id])).toBe(false);
    expect(await chatServerIds(db, ann, "not-an-id")).toBeUndefined();
    expect(await chatServerIds(db, ann, annChat)).toHaveLength(2);

    // Exactly the new choice: ids of no server (or not ids at all) are passed over.
    expect(await setChatServers(db, ann, annChat, [two.id, crypto.randomUUID(), "junk"])).toBe(true);
    expect(await chatServerIds(db, ann, annChat)).toEqual([two.id]);
    expect(await setChatServers(db, bob, bobChat, [one.id])).toBe(true);

    // A server removed is gone from every chat that used it.
    await deleteServer(db, two.id);
    expect(await chatServerIds(db, ann, annChat)).toEqual([]);
    expect(await chatServerIds(db, bob, bobChat)).toEqual([one.id]);
    await deleteServer(db, one.id);
  });

  test("toolsForChat gives the loop the chat's servers with their headers and enabled tools, leaving out servers with none", async () => {
    const db = t.database.db;
    const calc = await made(values("Calc", { enabledTools: ["add", "sleep"], requireApproval: true }));
    const bare = await made(values("Bare", { enabledTools: [] }));
    const web = await made(values("Web", { headers: { "X-Api-Key": "k-1" }, enabledTools: ["fetch"] }));
    await setChatServers(db, ann, annChat, [web.id, bare.id, calc.id]);
    const servers = await toolsForChat(db, annChat);
    expect(servers.map((s) => [s.name, s.url, s.headers, s.enabledTools, s.requireApproval])).toEqual([
      ["Calc", "https://calc.example/mcp", { Authorization: "Bearer token-of-Calc" }, ["add", "sleep"], true],
      ["Web", "https://web.example/mcp", { "X-Api-Key": "k-1" }, ["fetch"], false],
    ]);
    // Bob's chat uses none of them; a chat that is gone uses none.
    expect(await toolsForChat(db, bobChat)).toEqual([]);
    await updateServer(db, calc.id, { enabledTools: [] });
    expect((await toolsForChat(db, annChat)).map((s) => s.name)).toEqual(["Web"]);
    await db.delete(chats).where(eq(chats.id, annChat));
    expect(await toolsForChat(db, annChat)).toEqual([]);
    expect(await db.select().from(chatMcpServers).where(eq(chatMcpServers.chatId, annChat))).toEqual([]);
  });
});
