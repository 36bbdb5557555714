import { afterAll, beforeAll, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { favouriteModels } from "../../src/db/schema.ts";
import { type FakeUpstream, fakeEnv, startFakeUpstream } from "../fake-upstream.ts";
import { eachDriver } from "../support/db.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

let fake: FakeUpstream;
beforeAll(() => {
  fake = startFakeUpstream();
});
afterAll(() => fake.stop());

eachDriver("starring models in the picker", (t) => {
  let server: TestServer;
  let bob: Person;
  beforeAll(async () => {
    server = await startTestServer(t, fakeEnv(fake));
    bob = await server.signUp("bob");
  });
  afterAll(() => server.stop());

  const star = (who: Person, model: string, favourite: boolean) =>
    who.fetch("/models/favourites", {
      method: "POST",
      body: new URLSearchParams({ model, favourite: String(favourite) }),
    });
  const starsOf = async (who: Person) =>
    (await t.database.db.select().from(favouriteModels).where(eq(favouriteModels.userId, who.user.id))).map(
      (r) => r.model,
    );

  test("a star is the person's own, kept once however often it is sent, and taken away again", async () => {
    expect((await star(server, "fake/smart", true)).status).toBe(204);
    expect((await star(server, "fake/smart", true)).status).toBe(204);
    expect(await starsOf(server)).toEqual(["fake/smart"]);
    expect(await starsOf(bob)).toEqual([]);
    // The page lists it first, under Favourites, in the <select> that works without JavaScript.
    expect(await (await server.fetch("/")).text()).toContain('<optgroup label="Favourites"><option value="fake/smart"');
    expect(await (await bob.fetch("/")).text()).not.toContain('<optgroup label="Favourites">');
    expect((await star(server, "fake/smart", false)).status).toBe(204);
    expect(await starsOf(server)).toEqual([]);
  });

  test("only a model the upstream lists can be starred; nobody signed out or from another site can star", async () => {
    const refused = await star(server, "nobody/such-model", true);
    expect([refused.status, await refused.text()]).toEqual([400, "There is no such model."]);
    const signedOut = await fetch(`${server.url}/models/favourites`, {
      method: "POST",
      headers: { origin: server.url },
      body: new URLSearchParams({ model: "fake/fast", favourite: "true" }),
      redirect: "manual",
    });
    expect(signedOut.status).toBe(401);
    const elsewhere = await server.fetch("/models/favourites", {
      method: "POST",
      headers: { origin: "https://evil.example" },
      body: new URLSearchParams({ model: "fake/fast", favourite: "true" }),
    });
    expect(elsewhere.status).toBe(403);
    expect(await starsOf(server)).toEqual([]);
  });
});
