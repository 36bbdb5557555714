import { afterAll, beforeAll, expect, test } from "bun:test";
import { chats } from "../../src/db/schema.ts";
import { FAKE_CALLER, FAKE_MODELS } from "../fake-upstream.ts";
import { browserSuite, shotAllSizes } from "../support/e2e.ts";
import { startMcpServer, type TestMcpServer } from "../support/mcp-server.ts";

let mcp: TestMcpServer;
beforeAll(() => {
  mcp = startMcpServer({ token: "tool-token-123" });
});
afterAll(() => mcp.stop());

const SUITE = { shots: "tools", username: "tinker-ann", upstream: { models: [...FAKE_MODELS, FAKE_CALLER] } };
browserSuite("pglite", "tools over MCP in Chromium", SUITE, (s, t) => {
  test("the admin registers a server (its token never shown again), a chat turns it on, and an answer's tool step streams, waits for approval, survives a reload and can be stopped", async () => {
    const { page, problems } = await s.open();

    // Admin, Tools: register the server; its tools are listed and on; the token is not on the page.
    await page.goto(`${s.server.url}/admin`);
    await page.getByRole("link", { name: "Tools" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Calc");
    await page.getByLabel("URL of its MCP endpoint").fill(mcp.url);
    await page.getByLabel("Bearer token (optional)").fill("tool-token-123");
    await page.getByLabel("Each call waits for the person to approve it").check();
    await page.getByRole("button", { name: "Register" }).click();
    await page.getByText("The server is registered.").waitFor();
    for (const tool of ["add", "sleep", "fail", "big"])
      expect(await page.getByRole("checkbox", { name: tool }).isChecked()).toBe(true);
    expect(await page.content()).not.toContain("tool-token-123");
    expect(await page.getByText("Sent with every request: Authorization (values hidden).").isVisible()).toBe(true);
    await page.getByRole("checkbox", { name: "big" }).uncheck();
    await page.getByRole("button", { name: "Save tools" }).click();
    await page.getByText("Its tools are saved.").waitFor();
    await shotAllSizes(s, page, "admin-server");

    // A chat turns it on from its Tools page.
    const [chat] = await t.database.db
      .insert(chats)
      .values({ userId: s.server.user.id, title: "Sums", model: "fake/caller" })
      .returning();
    await page.goto(`${s.server.url}/chats/${chat!.id}/tools`);
    await page.getByRole("checkbox", { name: /^Calc/ }).check();
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("This chat's tools are saved.").waitFor();
    await page.getByRole("link", { name: "← Back to the chat" }).click();

    // The model calls add: the step asks for approval with its arguments; a reload shows it still waiting.
    s.fake.queue({ text: "Adding them up. ", toolCalls: [{ name: "Calc_add", arguments: '{"a": 19, "b": 23}' }] });
    await page.getByLabel("Message").fill("What is 19 + 23?");
    await page.getByLabel("Message").press("Enter");
    const answer = page.locator('article[data-role="assistant"]').last();
    const step = answer.locator("[data-tool-step]");
    await answer.locator('[data-tool-step="approval"]').waitFor();
    expect(await step.locator("summary").textContent()).toBe("add (Calc) wants to run: approve it?");
    expect(await step.locator("pre").first().textContent()).toContain('"a": 19');
    await shotAllSizes(s, page, "approval");
    await page.reload();
    await answer.locator('[data-tool-step="approval"]').waitFor();
    await answer.getByRole("button", { name: "Approve" }).click();
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    expect(await step.locator("summary").textContent()).toBe("Used add (Calc)");
    expect(await answer.locator("[data-body]").textContent()).toContain("The tool said: 42");
    await step.locator("summary").click();
    expect(await step.locator("pre").nth(1).textContent()).toBe("42");
    await shotAllSizes(s, page, "step-done");

    // Stop during a slow call: the call and the answer stop, the step says so.
    s.fake.queue({ toolCalls: [{ name: "Calc_sleep", arguments: '{"ms": 60000}' }] });
    await page.getByLabel("Message").fill("Wait a minute");
    await page.getByLabel("Message").press("Enter");
    const slow = page.locator('article[data-role="assistant"]').last();
    await slow.locator('[data-tool-step="approval"]').waitFor();
    await slow.getByRole("button", { name: "Approve" }).click();
    await slow.locator('[data-tool-step="running"]').waitFor();
    await page.locator("#composer-controls").getByRole("button", { name: "Stop" }).click();
    await page.locator('article[data-role="assistant"][data-status="stopped"]').waitFor();
    expect(await slow.locator("[data-tool-step] summary").textContent()).toBe("sleep (Calc): stopped");
    expect(problems).toEqual([]);
  });
});
