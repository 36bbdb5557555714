import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { asc, eq, like } from "drizzle-orm";
import { auditLog, chats, messages, sessions, users } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { DRIVERS, eachDriver } from "../support/db.ts";
import { alertOf, noticeOf } from "../support/page-text.ts";
import { type Person, startTestServer, TEST_PASSWORD, type TestServer, twoInstances } from "../support/server.ts";
import type { TestSocket } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

const post = (who: Person, path: string, form: Record<string, string>) =>
  who.fetch(path, { method: "POST", body: new URLSearchParams(form) });
const closed = (ws: TestSocket) =>
  new Promise<void>((resolve) => {
    if (ws.socket.readyState === WebSocket.CLOSED) return resolve();
    ws.socket.addEventListener("close", () => resolve(), { once: true });
  });

eachDriver("disabling an account", (t) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
  });
  afterAll(() => server.stop());

  const signInForm = (username: string) =>
    fetch(`${server.url}/signin`, {
      method: "POST",
      body: new URLSearchParams({ username, password: TEST_PASSWORD }),
      headers: { Origin: server.url },
      redirect: "manual",
    });

  test("disabled, a person is out at once: sessions end, sockets close, the answer in flight stops with its text kept", async () => {
    const bea = await server.signUp("bea");
    const other = await server.signIn("bea");
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: bea.user.id, title: "Long", model: "fake/fast" })
      .returning();
    const ws = await bea.socket(`/ws?chat=${chat!.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    const idle = await other.socket("/ws");
    fake.queue({ text: "partial words ".repeat(50), tokenSize: 14, stallAfterTokens: 3 });
    ws.send({ action: "send", chat: chat!.id, content: "Talk for a long time" });
    await ws.waitFor((m) => m.includes("partial words partial words"));

    const done = await post(server, `/admin/users/${bea.user.id}/disable`, {});
    expect(done.headers.get("location")).toBe("/admin?done=user-disabled");
    // By the time the admin's answer comes back, everything has happened: no waiting needed.
    await Promise.all([closed(ws), closed(idle)]);
    const [answer] = await t.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatId, chat!.id))
      .orderBy(asc(messages.id))
      .then((rows) => rows.filter((m) => m.role === "assistant"));
    expect(answer!.status).toBe("stopped");
    expect(answer!.content).toStartWith("partial words");
    expect(await t.database.db.select().from(sessions).where(eq(sessions.userId, bea.user.id))).toEqual([]);

    // The old cookie is signed out; the data is kept.
    const page = await bea.fetch("/");
    expect([page.status, page.headers.get("location")]).toEqual([303, "/signin"]);
    expect(await t.database.db.select().from(chats).where(eq(chats.userId, bea.user.id))).toHaveLength(1);

    // Sign-in is refused with a sentence (only after the right password: a wrong one is just wrong).
    const refused = await signInForm("bea");
    expect(refused.status).toBe(403);
    expect(alertOf(await refused.text())).toBe("This account is disabled; ask your admin.");
    expect(refused.headers.get("set-cookie")).toBeNull();

    const admin = await (await server.fetch("/admin?done=user-disabled")).text();
    expect(noticeOf(admin)).toBe("The account is disabled: that person is signed out everywhere and cannot sign in.");
    expect(admin).toMatch(/id="user-[^"]+"[\s\S]*?bea<\/span><span[^>]*>Disabled<\/span>/);
    expect(admin).toContain(`action="/admin/users/${bea.user.id}/enable"`);

    // Enabled again, they sign in as before.
    const enabled = await post(server, `/admin/users/${bea.user.id}/enable`, {});
    expect(enabled.headers.get("location")).toBe("/admin?done=user-enabled");
    const back = await signInForm("bea");
    expect([back.status, back.headers.get("location")]).toEqual([303, "/"]);

    const audit = await t.database.db
      .select()
      .from(auditLog)
      .where(like(auditLog.action, "user.%able"))
      .orderBy(asc(auditLog.id));
    expect(audit.map((a) => [a.action, a.target, a.actorName])).toEqual([
      ["user.disable", "bea", "tester"],
      ["user.enable", "bea", "tester"],
    ]);
  });

  test("a session that slipped in while disabling is refused on its next request", async () => {
    const cy = await server.signUp("cy");
    await t.database.db.update(users).set({ disabledAt: new Date() }).where(eq(users.id, cy.user.id));
    const page = await cy.fetch("/");
    expect(page.status).toBe(303);
    expect(await t.database.db.select().from(sessions).where(eq(sessions.userId, cy.user.id))).toEqual([]);
  });

  test("an admin cannot disable themselves nor the last admin who can sign in", async () => {
    const self = await post(server, `/admin/users/${server.user.id}/disable`, {});
    expect(self.status).toBe(400);
    expect(alertOf(await self.text())).toBe("You cannot disable your own account.");
    expect(alertOf(await (await post(server, "/admin/users/nobody/disable", {})).text())).toBe(
      "There is no such user.",
    );

    // The service refuses the last admin who can sign in, whoever asks (the CLI, or a future path).
    const eve = await server.signUp("eve");
    await expect(server.app.decorator.auth.setDisabled(eve.user, server.user.id, true)).rejects.toThrow(
      "tester is the last admin who can sign in; they cannot be disabled.",
    );
    // With a second admin, one of them may be disabled.
    const dee = await server.signUp("dee", { admin: true });
    expect((await post(server, `/admin/users/${dee.user.id}/disable`, {})).status).toBe(303);
    // A non-admin may not disable anyone.
    const byEve = await post(eve, `/admin/users/${dee.user.id}/enable`, {});
    expect(byEve.status).toBe(403);
  });
});

describe.if(DRIVERS.includes("postgres"))("disabling an account, with two instances [postgres]", () => {
  const two = twoInstances(() => fakeEnv(fake));
  const { t } = two;

  test("disabled on one instance, the person is out on the other too: its sockets close and the answer it writes stops, text kept", async () => {
    await two.a.signUp("cyd");
    const onB = await two.b.signIn("cyd");
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: onB.user.id, title: "Elsewhere", model: "fake/fast" })
      .returning();
    const ws = await onB.socket(`/ws?chat=${chat!.id}`);
    await ws.waitFor((m) => m.includes('id="transcript-live"'));
    fake.queue({ text: "far words ".repeat(50), tokenSize: 10, stallAfterTokens: 3 });
    ws.send({ action: "send", chat: chat!.id, content: "Talk on the other instance" });
    await ws.waitFor((m) => m.includes("far words far words"));

    const done = await post(two.a, `/admin/users/${onB.user.id}/disable`, {});
    expect(done.headers.get("location")).toBe("/admin?done=user-disabled");
    // Heard over Postgres notifications: no fixed wait, the test's timeout is the bound.
    await closed(ws);
    const answer = async () =>
      (await t.database.db.select().from(messages).where(eq(messages.chatId, chat!.id))).find(
        (m) => m.role === "assistant",
      )!;
    while ((await answer()).status === "streaming") await Bun.sleep(20);
    expect((await answer()).status).toBe("stopped");
    expect((await answer()).content).toStartWith("far words");
    const page = await onB.fetch("/");
    expect([page.status, page.headers.get("location")]).toEqual([303, "/signin"]);
  });
});
