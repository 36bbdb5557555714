import { afterAll, beforeAll, expect, test } from "bun:test";
import { asc, eq } from "drizzle-orm";
import { chats, messages, projectFiles } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";
import { finished, openSocket } from "../support/ws.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

/**
 * Routes that need no session: health, metrics (loopback or its own token; tested apart), assets,
 * the web app manifest (browsers fetch it without cookies), the OpenAPI spec (it describes routes,
 * not anyone's data), the doors, and shared snapshots and their files (the link is the permission;
 * test/share tests that a revoked or unknown one shows nothing, and that a snapshot serves only its own files),
 * and the frame diagrams are drawn in (the same page for everyone, holding nothing; shared pages use it).
 */
const PUBLIC = [
  "/healthz",
  "/openapi.json",
  "/readyz",
  "/metrics",
  "/assets/:file",
  "/manifest.webmanifest",
  "/setup",
  "/signin",
  "/signup",
  "/signout",
  "/s/:token",
  "/s/:token/files/:id",
  "/diagram-frame",
];

eachDriver("one person's chats, seen by another and by nobody", (t) => {
  let server: TestServer;
  let bob: Person;
  let chatId: string;
  let answerId: string;
  let shareId: string;
  let fileId: string;
  let projectId: string;
  let projectFileId: string;
  const unknownId = "01900000-0000-7000-8000-000000000000";

  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob");
    // The owner's chat, with one finished exchange, made the way the browser makes it.
    const made = await server.fetch("/chats", {
      method: "POST",
      body: new URLSearchParams({ content: "The owner's secret plan", model: "fake/fast" }),
    });
    chatId = /\/chats\/([0-9a-f-]+)$/.exec(made.headers.get("location")!)![1]!;
    // Settled once the answer is complete and the model has named the chat.
    for (let i = 0; i < 400; i++) {
      const [chat] = await t.database.db.select().from(chats).where(eq(chats.id, chatId));
      if (chat?.title !== "The owner's secret plan") break;
      await Bun.sleep(25);
    }
    const rows = await t.database.db
      .select()
      .from(messages)
      .where(eq(messages.chatId, chatId))
      .orderBy(asc(messages.id));
    answerId = rows.find((m) => m.role === "assistant")!.id;
    const shared = await server.fetch(`/chats/${chatId}/shares`, { method: "POST" });
    shareId = /data-share="([0-9a-f-]+)"/.exec(await shared.text())![1]!;
    const form = new FormData();
    form.append("file", new File(["The owner's secret plan, as a file\n"], "plan.txt"));
    fileId = (await (await server.fetch("/files", { method: "POST", body: form })).json()).files[0].id;
    const project = await server.fetch("/projects", {
      method: "POST",
      body: new URLSearchParams({ name: "The owner's secret project", system_prompt: "The owner's secret plan" }),
      redirect: "manual",
    });
    projectId = /\/projects\/([0-9a-f-]+)/.exec(project.headers.get("location")!)![1]!;
    const projectFile = new FormData();
    projectFile.append("file", new File(["The owner's secret plan, for the project\n"], "project-plan.txt"));
    await server.fetch(`/projects/${projectId}/files`, { method: "POST", body: projectFile });
    projectFileId = (await t.database.db.select().from(projectFiles).where(eq(projectFiles.projectId, projectId)))[0]!
      .fileId;
  });
  afterAll(() => server.stop());

  const snapshot = async () => ({
    chat: (await t.database.db.select().from(chats).where(eq(chats.id, chatId)))[0],
    messages: await t.database.db.select().from(messages).where(eq(messages.chatId, chatId)).orderBy(asc(messages.id)),
  });

  /** Every route the app has, with its parameters filled in with `id`. */
  const everyRoute = (id: string) =>
    server.app.routes
      .filter((r) => r.method !== "WS" && !PUBLIC.includes(r.path))
      .map((r) => ({
        method: r.method,
        path: r.path.replace(":id", id) + (r.path.endsWith("/messages") ? `?before=${answerId}` : ""),
      }));

  const request = (who: Person | undefined, method: string, path: string) => {
    const init: RequestInit = { method, redirect: "manual", headers: { Origin: server.url } };
    if (method === "POST")
      init.body = new URLSearchParams({ title: "taken over", model: "fake/smart", password: "a long new password" });
    return who ? who.fetch(path, init) : fetch(server.url + path, init);
  };

  test("the walk covers every route, and the chat routes are among them", () => {
    const paths = everyRoute(":id").map((r) => `${r.method} ${r.path.replace(/\?.*/, "")}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        "GET /",
        "GET /chats/:id",
        "GET /chats/:id/messages",
        "POST /chats",
        "POST /chats/:id/title",
        "POST /chats/:id/model",
        "POST /chats/:id/pin",
        "POST /chats/:id/archive",
        "GET /chats/list",
        "GET /archive",
        "POST /archive/:id/delete",
        "DELETE /chats/:id",
        "GET /chats/:id/export.md",
        "GET /chats/:id/export.json",
        "GET /account/export.json",
        "GET /account/import",
        "POST /account/import",
        "GET /chats/:id/settings",
        "POST /chats/:id/settings",
        "POST /chats/:id/preset",
        "GET /presets",
        "POST /presets",
        "POST /presets/:id",
        "POST /presets/:id/delete",
        "POST /models/favourites",
        "GET /chats/:id/shares",
        "POST /chats/:id/shares",
        "GET /shares",
        "DELETE /shares/:id",
        "POST /files",
        "GET /files/:id",
        "GET /projects",
        "POST /projects",
        "GET /projects/:id",
        "GET /projects/:id/chats",
        "POST /projects/:id",
        "POST /projects/:id/delete",
        "POST /projects/:id/files",
        "POST /projects/:id/files/:file/delete",
        "GET /chats/:id/move",
        "POST /chats/:id/project",
        "POST /chats/bulk",
        "GET /account",
        "GET /admin",
        "POST /admin/users/:id/delete",
      ]),
    );
  });

  test("nobody: every route but the public ones sends to sign-in (pages) or answers 401, and shows nothing", async () => {
    const before = await snapshot();
    for (const { method, path } of everyRoute(chatId)) {
      const res = await request(undefined, method, path);
      const body = await res.text();
      // Pages send to sign-in, and on to the page asked for once signed in.
      const signIn = path === "/" ? "/signin" : `/signin?next=${encodeURIComponent(path)}`;
      // The API for other tools (/v1) answers 401 to any method: its clients are programs, not people.
      if (method === "GET" && !path.startsWith("/v1/")) {
        expect([path, res.status, res.headers.get("location")]).toEqual([path, 303, signIn]);
      } else expect([path, res.status]).toEqual([path, 401]);
      expect(body).not.toContain("secret plan");
    }
    expect(await snapshot()).toEqual(before);
  });

  test("another person: the owner's chat answers exactly as a chat that does not exist, and nothing changes", async () => {
    const before = await snapshot();
    const chatRoutes = everyRoute(chatId).filter(
      (r) => r.path.startsWith(`/chats/${chatId}`) || r.path.startsWith(`/archive/${chatId}`),
    );
    expect(chatRoutes.length).toBeGreaterThanOrEqual(5);
    for (const { method, path } of chatRoutes) {
      const theirs = await request(bob, method, path);
      const none = await request(bob, method, path.replace(chatId, unknownId));
      const theirsBody = (await theirs.text()).replaceAll(chatId, "ID");
      const noneBody = (await none.text()).replaceAll(unknownId, "ID");
      expect([method, path, theirs.status]).toEqual([method, path, none.status]);
      expect(theirs.status).toBe(404);
      expect(theirsBody).toBe(noneBody);
      expect(theirsBody).not.toContain("secret plan");
      expect(Object.keys(theirs.headers.toJSON()).sort()).toEqual(Object.keys(none.headers.toJSON()).sort());
    }
    // Their own pages list only their own chats.
    expect(await (await bob.fetch("/")).text()).not.toContain("secret plan");
    expect(await snapshot()).toEqual(before);
  });

  test("another person: the owner's chat in a bulk action (Select) answers as a chat that does not exist, and stays", async () => {
    const before = await snapshot();
    for (const action of ["archive", "move", "delete"]) {
      const post = (id: string) =>
        bob.fetch("/chats/bulk", {
          method: "POST",
          headers: { "HX-Request": "true" },
          body: new URLSearchParams([
            ["action", action],
            ["project", ""],
            ["ids", id],
          ]),
        });
      const theirs = await post(chatId);
      const none = await post(unknownId);
      expect([action, theirs.status, none.status]).toEqual([action, 404, 404]);
      expect(await theirs.text()).toBe(await none.text());
    }
    expect(await snapshot()).toEqual(before);
  });

  test("another person: the owner's share links answer exactly as links that do not exist, and stay", async () => {
    const shareRoutes = everyRoute(shareId).filter((r) => r.path.startsWith(`/shares/${shareId}`));
    expect(shareRoutes.length).toBeGreaterThanOrEqual(1);
    for (const { method, path } of shareRoutes) {
      const theirs = await request(bob, method, path);
      const none = await request(bob, method, path.replace(shareId, unknownId));
      expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
      expect((await theirs.text()).replaceAll(shareId, "ID")).toBe((await none.text()).replaceAll(unknownId, "ID"));
    }
    const list = await bob.fetch("/shares", { headers: { "HX-Request": "true" } });
    expect(await list.text()).not.toContain(shareId);
    const owners = await server.fetch(`/chats/${chatId}/shares`);
    expect(await owners.text()).toContain(`data-share="${shareId}"`);
  });

  test("another person: the owner's project answers exactly as a project that does not exist, and stays", async () => {
    const projectRoutes = everyRoute(projectId)
      .filter((r) => r.path.startsWith(`/projects/${projectId}`))
      // A project's file is named by the owner's own: neither is bob's.
      .map((r) => ({ ...r, path: r.path.replace(":file", projectFileId) }));
    expect(projectRoutes.length).toBeGreaterThanOrEqual(5);
    for (const { method, path } of projectRoutes) {
      const theirs = await request(bob, method, path);
      const none = await request(bob, method, path.replace(projectId, unknownId));
      const theirsBody = await theirs.text();
      expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
      expect(theirsBody.replaceAll(projectId, "ID")).toBe((await none.text()).replaceAll(unknownId, "ID"));
      expect(theirsBody).not.toContain("secret");
    }
    expect(await (await bob.fetch("/projects")).text()).not.toContain("secret project");
    const owners = await (await server.fetch(`/projects/${projectId}`)).text();
    expect(owners).toContain("secret plan");
    // The project's file stays the owner's, in the project.
    expect(owners).toContain(`href="/files/${projectFileId}" download="project-plan.txt"`);
  });

  test("another person: the owner's files answer exactly as files that do not exist", async () => {
    const fileRoutes = everyRoute(fileId).filter((r) => r.path.startsWith(`/files/${fileId}`));
    expect(fileRoutes.length).toBeGreaterThanOrEqual(1);
    for (const { method, path } of fileRoutes) {
      const theirs = await request(bob, method, path);
      const none = await request(bob, method, path.replace(fileId, unknownId));
      const theirsBody = await theirs.text();
      expect([method, path, theirs.status, none.status]).toEqual([method, path, 404, 404]);
      expect(theirsBody.replaceAll(fileId, "ID")).toBe((await none.text()).replaceAll(unknownId, "ID"));
      expect(theirsBody).not.toContain("secret plan");
      expect(Object.keys(theirs.headers.toJSON()).sort()).toEqual(Object.keys(none.headers.toJSON()).sort());
    }
    const owners = await server.fetch(`/files/${fileId}`);
    expect(await owners.text()).toContain("secret plan");
  });

  test("another person who is not an admin cannot reach the admin routes", async () => {
    for (const { method, path } of everyRoute(server.user.id).filter((r) => r.path.startsWith("/admin"))) {
      const res = await request(bob, method, path);
      expect([method, path, res.status]).toEqual([method, path, 403]);
    }
    expect((await server.fetch("/admin")).status).toBe(200);
  });

  test("over the socket: nobody is refused at the door; another person hears nothing and can do nothing", async () => {
    await expect(openSocket(server.url, `/ws?chat=${chatId}`)).rejects.toThrow();
    const before = await snapshot();

    const error = (html: string) => /<p id="composer-status"[^>]*data-kind="error"[^>]*>([^<]*)</.exec(html)?.[1];
    const theirs = await bob.socket(`/ws?chat=${chatId}`);
    const none = await bob.socket(`/ws?chat=${unknownId}`);
    const openErrors = await Promise.all([theirs, none].map((ws) => ws.waitFor((m) => !!error(m))));
    expect(error(openErrors[0]!)).toBe(error(openErrors[1]!));
    expect(error(openErrors[0]!)).toBe("This chat does not exist; it may have been deleted.");

    // The owner starts a slow answer; the other person tries each action on it, then on nothing.
    fake.queue({ text: "private words ".repeat(40), tokenDelayMs: 20 });
    const owner = await server.socket(`/ws?chat=${chatId}`);
    await owner.waitFor((m) => m.includes('id="transcript-live"'));
    const from = owner.messages.length;
    owner.send({ action: "send", chat: chatId, content: "More of the plan" });
    const started = await owner.waitFor((m) => m.includes('data-status="streaming"'), { from });
    const liveId = /<article id="msg-([0-9a-f-]+)" data-role="assistant"/.exec(started)![1]!;

    const actions = (chat: string, message: string) => [
      { action: "send", chat, content: "hijack" },
      { action: "stop", message },
      { action: "retry", message },
    ];
    const mine = actions(chatId, liveId);
    const nothing = actions(unknownId, unknownId);
    for (let i = 0; i < mine.length; i++) {
      const at = theirs.messages.length;
      theirs.send(mine[i]);
      const gotTheirs = error(await theirs.waitFor((m) => !!error(m), { from: at }));
      const at2 = theirs.messages.length;
      theirs.send(nothing[i]);
      const gotNone = error(await theirs.waitFor((m) => !!error(m), { from: at2 }));
      expect([mine[i]!.action, gotTheirs]).toEqual([mine[i]!.action, gotNone]);
    }
    theirs.send({ action: "retry", message: answerId });
    await theirs.waitFor((m) => error(m) === "There is no such answer.");

    // The owner's answer ran to its end, untouched, and none of it reached the other person.
    const done = await owner.waitFor(finished(liveId), { from });
    expect(done).toContain('data-status="complete"');
    for (const m of [...theirs.messages, ...none.messages]) {
      expect(m).not.toContain("private words");
      expect(m).not.toContain(liveId);
      expect(m).not.toContain("secret plan");
    }
    const after = await snapshot();
    expect(after.messages.slice(0, before.messages.length)).toEqual(before.messages);
    expect(after.messages).toHaveLength(before.messages.length + 2);
    await Promise.all([theirs.close(), none.close(), owner.close()]);
  });
});
