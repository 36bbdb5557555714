import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq, like } from "drizzle-orm";
import { auditLog, chatMcpServers, chats, mcpServers } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import { startMcpServer, type TestMcpServer } from "../support/mcp-server.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

/*
 * The admin's MCP servers (/admin/tools) and a chat's choice of them (/chats/:id/tools) over real
 * HTTP, against a real MCP server that wants a bearer token: who may do what, the sentences a
 * refusal gives, the audit log, and that no token or header value ever comes back in a page.
 */

const TOKEN = "tok-Zq81-never-shown";
const HEADER_VALUE = "team-secret-4242";
const UNREACHABLE = "http://127.0.0.1:9/mcp";

let mcp: TestMcpServer;
beforeAll(() => {
  mcp = startMcpServer({ token: TOKEN });
});
afterAll(() => mcp.stop());

eachDriver("tools pages", (t) => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;
  /** Every body any response gave, to look for secrets in at the end. */
  const seen: string[] = [];
  beforeAll(async () => {
    server = await startTestServer(t);
    ann = await server.signUp("ann");
    bob = await server.signUp("bob");
  });
  afterAll(() => server.stop());

  const read = async (res: Response) => {
    const body = await res.text();
    seen.push(body);
    return body;
  };
  const get = async (who: Person, path: string) => {
    const res = await who.fetch(path, { headers: { accept: "text/html" } });
    return { status: res.status, body: await read(res), location: res.headers.get("location") };
  };
  const post = async (who: Person, path: string, form: Record<string, string | string[]>, init: RequestInit = {}) => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const one of [v].flat()) body.append(k, one);
    const res = await who.fetch(path, {
      method: "POST",
      body,
      ...init,
      headers: { accept: "text/html", ...init.headers },
    });
    return { status: res.status, body: await read(res), location: res.headers.get("location") };
  };
  const register = (form: Record<string, string>) => post(server, "/admin/tools", form);
  const idOf = (location: string | null) => /^\/admin\/tools\/([0-9a-f-]{36})\?done=created$/.exec(location ?? "")![1]!;
  const row = async (id: string) => (await t.database.db.select().from(mcpServers).where(eq(mcpServers.id, id)))[0];
  const actions = async () =>
    (await t.database.db.select().from(auditLog).where(like(auditLog.action, "tools.%")).orderBy(asc(auditLog.id))).map(
      (a) => [a.action, a.target, a.detail],
    );
  const checked = (html: string) =>
    [...html.matchAll(/<input type="checkbox" name="tool" value="([^"]+)"( checked)?/g)].map((m) => [m[1], !!m[2]]);

  test("the admin registers a server with a token and a header: every tool it lists is on, and its credentials are never shown", async () => {
    expect((await get(server, "/admin")).body).toContain('href="/admin/tools"');
    const empty = (await get(server, "/admin/tools")).body;
    expect(empty).toContain("No server yet.");
    // The token is optional: a browser must not refuse the form without one.
    expect(/<input id="field-token"[^>]*>/.exec(empty)![0]).not.toContain("required");

    const made = await register({
      name: "Calc",
      url: mcp.url,
      token: `  ${TOKEN} `,
      headers: `X-Team: ${HEADER_VALUE}\n\n`,
      approval: "on",
    });
    expect(made.status).toBe(303);
    const id = idOf(made.location);
    expect(mcp.authorizations.at(-1)).toBe(`Bearer ${TOKEN}`);
    expect(await row(id)).toMatchObject({
      name: "Calc",
      url: mcp.url,
      headers: { "X-Team": HEADER_VALUE, Authorization: `Bearer ${TOKEN}` },
      enabledTools: ["add", "sleep", "fail", "big"],
      requireApproval: true,
    });

    const page = await get(server, `/admin/tools/${id}?done=created`);
    expect(noticeOf(page.body)).toBe("The server is registered.");
    expect(checked(page.body).sort()).toEqual([
      ["add", true],
      ["big", true],
      ["fail", true],
      ["sleep", true],
    ]);
    expect(page.body).toContain("Adds two numbers.");
    expect(page.body).toContain("Sent with every request: <span>X-Team, Authorization</span> (values hidden).");
    expect(page.body).toMatch(/<input type="checkbox" name="approval" checked/);
    const list = await get(server, "/admin/tools");
    expect(list.body).toContain(`href="/admin/tools/${id}"`);
    expect(list.body).toContain("4 tools on · each call approved · ");

    expect(await actions()).toEqual([["tools.create", "Calc", { url: mcp.url }]]);
    // The audit page shows the registration, and nothing of its credentials (checked with every body at the end).
    expect((await get(server, "/admin/audit")).body).toContain("Registered an MCP server");
  });

  test("what the admin typed wrong is refused with a sentence, and the page never fills the token back in", async () => {
    for (const [form, sentence] of [
      [{ name: "", url: mcp.url }, "Give the server a name."],
      [{ name: "x".repeat(41), url: mcp.url }, "A server's name is at most 40 characters."],
      [
        { name: "<b>", url: mcp.url },
        "A server's name is letters, digits, spaces, dots, dashes and underscores, starting with a letter or digit.",
      ],
      [
        { name: "Files", url: "ftp://files.example/mcp" },
        "The URL must be an http:// or https:// address of the server's MCP endpoint.",
      ],
      [
        { name: "Files", url: "not a url" },
        "The URL must be an http:// or https:// address of the server's MCP endpoint.",
      ],
      [{ name: "Files", url: mcp.url, headers: `no colon ${HEADER_VALUE}` }, "Each header line is “Name: value”."],
      [{ name: "Files", url: mcp.url, headers: "X-Empty:" }, "Each header line is “Name: value”."],
      [{ name: "Calc", url: mcp.url, token: TOKEN }, "Another server has that name."],
    ] as const) {
      const refused = await register(form);
      expect(refused.status).toBe(400);
      expect(alertOf(refused.body)).toBe(sentence);
    }
    expect(await t.database.db.select().from(mcpServers)).toHaveLength(1);
  });

  test("the admin turns tools off, approval off, and replaces the credentials; each change audited", async () => {
    const [calc] = await t.database.db.select().from(mcpServers).where(eq(mcpServers.name, "Calc"));
    const base = `/admin/tools/${calc!.id}`;
    const saved = await post(server, `${base}/tools`, { tool: ["add", "sleep", "add"] });
    expect(saved.location).toBe(`${base}?done=tools`);
    expect((await row(calc!.id))!.enabledTools).toEqual(["add", "sleep"]);
    const page = await get(server, saved.location!);
    expect(noticeOf(page.body)).toBe("Its tools are saved.");
    expect(checked(page.body).sort()).toEqual([
      ["add", true],
      ["big", false],
      ["fail", false],
      ["sleep", true],
    ]);

    expect((await post(server, `${base}/approval`, {})).location).toBe(`${base}?done=approval`);
    expect((await row(calc!.id))!.requireApproval).toBe(false);

    // A wrong token: saved (the admin may be rotating it), and the page says the server refused it, showing the tools on before.
    expect((await post(server, `${base}/credentials`, { token: "wrong-one" })).location).toBe(
      `${base}?done=credentials`,
    );
    expect((await row(calc!.id))!.headers).toEqual({ Authorization: "Bearer wrong-one" });
    const refused = await get(server, base);
    expect(refused.body).toContain(
      "Calc refused Parley&#x27;s credentials (401). The tools turned on before are shown.",
    );
    expect(checked(refused.body).sort()).toEqual([
      ["add", true],
      ["sleep", true],
    ]);
    expect(refused.body).toContain("Sent with every request: <span>Authorization</span> (values hidden).");

    // The token field wins over an Authorization line.
    await post(server, `${base}/credentials`, { token: TOKEN, headers: "authorization: Basic abc\nX-Other: 1234" });
    expect((await row(calc!.id))!.headers).toEqual({ "X-Other": "1234", Authorization: `Bearer ${TOKEN}` });
    expect(checked((await get(server, base)).body)).toHaveLength(4);
    // Empty fields: no credentials at all, and the page says so.
    await post(server, `${base}/credentials`, {});
    expect((await row(calc!.id))!.headers).toEqual({});
    expect((await get(server, base)).body).toContain("None are sent.");
    await post(server, `${base}/credentials`, { token: TOKEN });

    const changes = (await actions()).slice(1);
    expect(changes).toEqual(Array(6).fill(["tools.update", "Calc", { url: mcp.url }]));
  });

  test("a server that cannot be reached is registered with no tools on, and its page says why", async () => {
    const made = await register({ name: "Gone", url: UNREACHABLE });
    const id = idOf(made.location);
    expect((await row(id))!.enabledTools).toEqual([]);
    const page = await get(server, `/admin/tools/${id}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain(`Gone could not be reached at ${UNREACHABLE}. The tools turned on before are shown.`);
    expect(page.body).toContain("It lists no tools.");

    expect((await post(server, `/admin/tools/${id}/delete`, {})).location).toBe("/admin/tools?done=deleted");
    const gone = await get(server, `/admin/tools/${id}`);
    expect(gone.status).toBe(404);
    expect(alertOf(gone.body)).toBe("There is no such MCP server: it may have been removed.");
    for (const path of [`/admin/tools/${id}/delete`, `/admin/tools/${id}/tools`, "/admin/tools/not-an-id/approval"]) {
      const missing = await post(server, path, {});
      expect(missing.status).toBe(404);
      expect(alertOf(missing.body)).toBe("There is no such MCP server: it may have been removed.");
    }
    expect((await actions()).slice(-2).map((a) => a.slice(0, 2))).toEqual([
      ["tools.create", "Gone"],
      ["tools.delete", "Gone"],
    ]);
  });

  test("only an admin may see or change MCP servers, and only from this site's pages", async () => {
    const [calc] = await t.database.db.select().from(mcpServers).where(eq(mcpServers.name, "Calc"));
    for (const path of ["/admin/tools", `/admin/tools/${calc!.id}`]) {
      const page = await get(ann, path);
      expect(page.status).toBe(403);
      expect(page.body).toContain("Only an admin can do that");
    }
    for (const path of ["/admin/tools", `/admin/tools/${calc!.id}/tools`, `/admin/tools/${calc!.id}/delete`]) {
      expect((await post(ann, path, { name: "Mine", url: mcp.url, tool: "big" })).status).toBe(403);
    }
    // The admin's own session from another site, or with no Origin at all, is refused too.
    for (const origin of ["", "http://evil.example"]) {
      const forged = await post(
        server,
        `/admin/tools/${calc!.id}/credentials`,
        { token: "forged" },
        { headers: { origin } },
      );
      expect(forged.status).toBe(403);
      expect(
        (await post(server, "/admin/tools", { name: "Forged", url: mcp.url }, { headers: { origin } })).status,
      ).toBe(403);
    }
    const rows = await t.database.db.select().from(mcpServers);
    expect(rows.map((r) => [r.name, r.enabledTools, r.headers])).toEqual([
      ["Calc", ["add", "sleep"], { Authorization: `Bearer ${TOKEN}` }],
    ]);
  });

  test("a person chooses servers for their own chat; another's chat, or none, is not found", async () => {
    const db = t.database.db;
    const [calc] = await db.select().from(mcpServers).where(eq(mcpServers.name, "Calc"));
    const none = await register({ name: "Nothing on", url: UNREACHABLE });
    const [chat] = await db
      .insert(chats)
      .values({ userId: ann.user.id, title: "Sums", model: "fake/fast" })
      .returning();
    const path = `/chats/${chat!.id}/tools`;

    expect((await get(ann, `/chats/${chat!.id}/settings`)).body).toContain(`href="${path}"`);
    const page = await get(ann, path);
    expect(page.status).toBe(200);
    // Only servers with a tool on are offered.
    expect(page.body).toContain(`name="server" value="${calc!.id}"`);
    expect(page.body).not.toContain(idOf(none.location));
    expect(page.body).toContain("Calc (add, sleep)");
    expect(page.body).not.toMatch(/name="server" value="[^"]+" checked/);

    const saved = await post(ann, path, { server: [calc!.id, idOf(none.location), "junk"] });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe(`${path}?done=chat`);
    const after = await get(ann, saved.location!);
    expect(noticeOf(after.body)).toBe("This chat's tools are saved.");
    expect(after.body).toContain(`name="server" value="${calc!.id}" checked`);

    // Bob can neither see nor change Ann's choice; a chat that does not exist is not found either.
    for (const target of [path, `/chats/${crypto.randomUUID()}/tools`, "/chats/not-an-id/tools"]) {
      const seenByBob = await get(bob, target);
      expect(seenByBob.status).toBe(404);
      expect(seenByBob.body).toContain("There is no such chat.");
      expect((await post(bob, target, { server: [] })).status).toBe(404);
    }
    // Nor from another site, even as Ann.
    expect((await post(ann, path, {}, { headers: { origin: "http://evil.example" } })).status).toBe(403);
    const used = await db.select().from(chatMcpServers).where(eq(chatMcpServers.chatId, chat!.id));
    expect(used.map((u) => u.serverId).sort()).toEqual([calc!.id, idOf(none.location)].sort());

    // Unticking every box clears the choice.
    await post(ann, path, {});
    expect(await db.select().from(chatMcpServers).where(eq(chatMcpServers.chatId, chat!.id))).toEqual([]);

    // With no server offering a tool, the page says so and has no form.
    await db.update(mcpServers).set({ enabledTools: [] });
    const empty = await get(ann, path);
    expect(empty.body).toContain("No tools are set up on this Parley yet");
    expect(empty.body).not.toContain('name="server"');
  });

  test("no page any of the above answered held the token or a header value", () => {
    expect(seen.length).toBeGreaterThan(40);
    expect(seen.join("\n")).toContain("(values hidden)");
    for (const body of seen) {
      expect(body).not.toContain(TOKEN);
      expect(body).not.toContain(HEADER_VALUE);
    }
  });
});
