import { afterAll, beforeAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { audit } from "../../src/audit/log.ts";
import { createAuditService } from "../../src/audit/service.ts";
import { chats } from "../../src/db/schema.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { startTestServer, TEST_PASSWORD, type TestServer } from "../support/server.ts";

const WRONG_PASSWORD = "not the password at all, surely";
const NEW_PASSWORD = "a brand new password, set by the admin";
const FIRST_PASSWORD = "a first password, long enough";

type Row = { action: string; actor_name: string | null; target: string | null; ip: string | null; detail: unknown };

eachDriver("the audit log", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, {}, { username: "boss" });
  });
  afterAll(() => server.stop());

  const entries = (action: string) =>
    t.database.rows<Row>(
      sql`select action, actor_name, target, ip, detail from audit_log where action = ${action} order by created_at, id`,
    );
  const form = (fields: Record<string, string>) => ({ method: "POST", body: new URLSearchParams(fields) });
  const signInForm = (username: string, password: string) =>
    fetch(`${server.url}/signin`, {
      ...form({ username, password }),
      headers: { origin: server.url },
      redirect: "manual",
    });

  test("sign-ins through the form are written, failed ones too, with the address and never the password", async () => {
    const before = (await entries("signin")).length;
    expect((await signInForm("boss", TEST_PASSWORD)).status).toBe(303);
    expect((await signInForm("boss", WRONG_PASSWORD)).status).toBe(401);
    expect((await signInForm("nobody-here", WRONG_PASSWORD)).status).toBe(401);
    expect((await entries("signin")).slice(before)).toEqual([
      { action: "signin", actor_name: "boss", target: null, ip: "127.0.0.1", detail: null },
    ]);
    expect(await entries("signin.failed")).toEqual([
      {
        action: "signin.failed",
        actor_name: "boss",
        target: null,
        ip: "127.0.0.1",
        detail: { reason: "wrong password" },
      },
      {
        action: "signin.failed",
        actor_name: "nobody-here",
        target: null,
        ip: "127.0.0.1",
        detail: { reason: "no such account" },
      },
    ]);
  });

  test("each admin action is written with who did it, to whom and from where", async () => {
    const signup = await server.fetch("/admin/signup", form({ open: "true" }));
    expect(signup.headers.get("location")).toBe("/admin?done=signup-opened");
    await server.fetch("/admin/signup", form({ open: "false" }));
    const added = await server.fetch(
      "/admin/users",
      form({ username: "carl", password: FIRST_PASSWORD, admin: "true" }),
    );
    expect(added.headers.get("location")).toBe("/admin?done=user-added");
    const [carl] = await t.database.rows<{ id: string }>(sql`select id from users where username = 'carl'`);
    const reset = await server.fetch(`/admin/users/${carl!.id}/password`, form({ password: NEW_PASSWORD }));
    expect(reset.headers.get("location")).toBe("/admin?done=password-set");
    const deleted = await server.fetch(`/admin/users/${carl!.id}/delete`, { method: "POST" });
    expect(deleted.headers.get("location")).toBe("/admin?done=user-deleted");
    const by = { actor_name: "boss", ip: "127.0.0.1" };
    expect(await entries("signup.open")).toEqual([{ action: "signup.open", target: null, detail: null, ...by }]);
    expect(await entries("signup.close")).toEqual([{ action: "signup.close", target: null, detail: null, ...by }]);
    expect((await entries("user.create")).filter((e) => e.target === "carl")).toEqual([
      { action: "user.create", target: "carl", detail: { admin: true }, ...by },
    ]);
    expect(await entries("user.password")).toEqual([{ action: "user.password", target: "carl", detail: null, ...by }]);
    expect(await entries("user.delete")).toEqual([{ action: "user.delete", target: "carl", detail: null, ...by }]);
    // A refused action is not written.
    await server.fetch("/admin/users", form({ username: "x y", password: "short" }));
    expect((await entries("user.create")).filter((e) => e.target === "x y")).toEqual([]);
  });

  test("signing out and sharing a chat (and revoking the link) are written; the link's token is not", async () => {
    const dora = await server.signUp("dora");
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: dora.user.id, title: "Garden plans", model: "fake/fast" })
      .returning();
    const made = await dora.fetch(`/chats/${chat!.id}/shares`, { method: "POST" });
    const token = /\/s\/([A-Za-z0-9_-]{32})/.exec(await made.text())![1]!;
    const [share] = await t.database.rows<{ id: string }>(sql`select id from shares where chat_id = ${chat!.id}`);
    expect((await dora.fetch(`/shares/${share!.id}`, { method: "DELETE" })).status).toBe(200);
    await dora.fetch("/signout", { method: "POST" });
    const detail = { shareId: share!.id, chatId: chat!.id };
    const by = { actor_name: "dora", ip: "127.0.0.1", target: "chat “Garden plans”" };
    expect(await entries("share.create")).toEqual([{ action: "share.create", detail, ...by }]);
    expect(await entries("share.revoke")).toEqual([{ action: "share.revoke", detail, ...by }]);
    expect(await entries("signout")).toEqual([
      { action: "signout", actor_name: "dora", ip: "127.0.0.1", target: null, detail: null },
    ]);
    const all = JSON.stringify(await t.database.rows(sql`select * from audit_log`));
    expect(all).not.toContain(token);
  });

  test("no password typed anywhere reaches the audit log", async () => {
    const all = JSON.stringify(await t.database.rows(sql`select * from audit_log`));
    for (const secret of [TEST_PASSWORD, WRONG_PASSWORD, NEW_PASSWORD, FIRST_PASSWORD])
      expect(all).not.toContain(secret);
  });

  test("the admin's page lists entries newest first, filtered by action and by person", async () => {
    const res = await server.fetch("/admin/audit", { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const shown = [...html.matchAll(/data-action="([^"]+)"/g)].map((m) => m[1]);
    const [newest] = await t.database.rows<{ action: string }>(
      sql`select action from audit_log order by created_at desc, id desc limit 1`,
    );
    expect(shown[0]).toBe(newest!.action);
    expect(html).toContain('<option value="signin.failed">Sign-in failed</option>');

    const failed = await (await server.fetch("/admin/audit?action=signin.failed")).text();
    expect([...failed.matchAll(/data-action="([^"]+)"/g)].map((m) => m[1])).toEqual(["signin.failed", "signin.failed"]);
    expect(failed).toContain("nobody-here");

    const doras = await (await server.fetch("/admin/audit?person=DOR")).text();
    const actions = [...doras.matchAll(/data-action="([^"]+)"/g)].map((m) => m[1]);
    expect(actions).toContain("share.create");
    expect(actions).not.toContain("user.delete");
    // The underscore is a character to match, not a wildcard.
    expect(await (await server.fetch("/admin/audit?person=d_ra")).text()).toContain("No entries match.");
  });

  test("pages of fifty, with an Older link that goes on where the page ended", async () => {
    for (let i = 0; i < 60; i++)
      await audit(t.database.db, { actorName: "bulk", action: "bulk.test", target: `n${i}` });
    const first = await (await server.fetch("/admin/audit?action=bulk.test")).text();
    const targets = (html: string) => [...html.matchAll(/<span class="font-medium">(n\d+)<\/span>/g)].map((m) => m[1]);
    expect(targets(first)).toEqual(Array.from({ length: 50 }, (_, i) => `n${59 - i}`));
    const older = /<a href="(\/admin\/audit\?[^"]+)"[^>]*>Older entries<\/a>/.exec(first)![1]!.replaceAll("&amp;", "&");
    expect(older).toContain("action=bulk.test");
    const second = await (await server.fetch(older)).text();
    expect(targets(second)).toEqual(Array.from({ length: 10 }, (_, i) => `n${9 - i}`));
    expect(second).not.toContain("Older entries");
  });

  test("bad filters get a sentence; someone who is not an admin gets a page saying so", async () => {
    for (const [query, sentence] of [
      ["action=nothing.like.this", "There is no such action to filter by."],
      ["before=not-an-id", "That page of the log is no longer there"],
      [`before=${Bun.randomUUIDv7()}`, "That page of the log is no longer there"],
    ] as const) {
      const res = await server.fetch(`/admin/audit?${query}`);
      expect([query, res.status]).toEqual([query, 400]);
      expect(alertOf(await res.text())).toStartWith(sentence);
    }
    const eve = await server.signUp("eve");
    const res = await eve.fetch("/admin/audit", { headers: { accept: "text/html" } });
    expect(res.status).toBe(403);
    const html = await res.text();
    expect(html).toContain("Only an admin can do that");
    expect(html).not.toContain("dora");
    expect(noticeOf(html)).toBeUndefined();
  });

  test("the sweep deletes entries older than the retention setting and keeps the rest", async () => {
    const old = Bun.randomUUIDv7();
    const recent = Bun.randomUUIDv7();
    const at = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    await t.database.rows(
      sql`insert into audit_log (id, action, actor_name, created_at) values (${old}, 'signin', 'old', ${at(31)}), (${recent}, 'signin', 'recent', ${at(29)})`,
    );
    const before = await t.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log`);
    expect(server.config.auditRetentionDays).toBe(365);
    expect(await createAuditService({ database: t.database, retentionDays: 365 }).sweep()).toBe(0);
    expect(await createAuditService({ database: t.database, retentionDays: 30 }).sweep()).toBe(1);
    const left = await t.database.rows<{ id: string }>(sql`select id from audit_log where id in (${old}, ${recent})`);
    expect(left.map((r) => r.id)).toEqual([recent]);
    const after = await t.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_log`);
    expect(after[0]!.n).toBe(before[0]!.n - 1);
  });
});
