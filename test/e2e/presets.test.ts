import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { fakeParse } from "../fake-upstream.ts";
import { pdf } from "../files/samples.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

const SUITE = { shots: "presets", username: "captain-ann" };
browserSuite("pglite", "chat settings and presets in Chromium", SUITE, (s) => {
  // caret "initial": Playwright hides the caret with an inline <style>, which the page's CSP refuses (a console error).
  const shot = (page: Page, name: string) => s.shot(page, name, { caret: "initial" });
  /** Screenshots at both sizes in both colour schemes, then back to desktop light. */
  const shots = async (page: Page, name: string, before?: () => Promise<void>) => {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await before?.();
        await shot(page, `${name}-${size}-${scheme}`);
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };
  const sent = (content: string) =>
    s.fake.requests.find((r) => r.body.stream && r.body.messages.at(-1)?.content === content)?.body;
  const send = async (page: Page, content: string) => {
    const answers = await page.locator('article[data-role="assistant"][data-status="complete"]').count();
    await page.getByLabel("Message").fill(content);
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator('article[data-role="assistant"][data-status="complete"]').nth(answers).waitFor();
  };

  test("set a system prompt and temperature in a chat's settings, send, save them as a preset, start a new chat from it", async () => {
    const { page, problems } = await s.open();

    await page.goto(s.server.url);
    await send(page, "Where is the treasure?");
    expect(await page.locator("#chat-settings-summary").textContent()).toBe("");

    // Settings → the dialog with the fields Fake Fast takes.
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Chat settings" });
    await dialog.getByLabel("System prompt").fill("Answer like a pirate <arr>.");
    await dialog.getByLabel("Temperature").fill("0.6");
    await expect(dialog.getByLabel("Reasoning effort").count()).resolves.toBe(0);
    await dialog.getByRole("button", { name: "Save", exact: true }).click();
    await dialog.getByText("Saved: the next answer uses these settings.").waitFor();
    const summary = page.locator("#chat-settings-summary");
    await expect(summary.textContent()).resolves.toContain("System prompt · temperature 0.6");
    await expect(summary.textContent()).resolves.toContain("Answer like a pirate <arr>.");
    await shots(page, "chat-settings");

    // The next message goes upstream after the prompt, with the temperature.
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });
    await send(page, "And the map?");
    const request = sent("And the map?")!;
    expect(request.messages[0]).toEqual({ role: "system", content: "Answer like a pirate <arr>." });
    expect(request.messages.filter((m) => m.role === "system")).toHaveLength(1);
    expect(request.temperature).toBe(0.6);
    // The prompt is not a bubble in the transcript.
    await expect(page.locator("#transcript").textContent()).resolves.not.toContain("Answer like a pirate");

    // Save as a preset from the same dialog (it loads afresh, with the saved values).
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    await expect(dialog.getByLabel("System prompt").inputValue()).resolves.toBe("Answer like a pirate <arr>.");
    await dialog.getByLabel("Save as a preset").fill("Pirate");
    await dialog.getByRole("button", { name: "Save preset" }).click();
    await dialog.getByText("Saved as the preset Pirate.").waitFor();

    // The presets page lists it; start a new chat from it.
    await page.goto(`${s.server.url}/presets`);
    const item = page.locator("#preset-list li", { hasText: "Pirate" });
    await expect(item.textContent()).resolves.toContain("System prompt · temperature 0.6");
    await shots(page, "presets-list");
    await item.getByRole("link", { name: "Start a chat" }).click();
    await page.waitForURL(/\/\?preset=[0-9a-f-]+$/);
    await page.getByText("Starting from the preset Pirate").waitFor();
    await shots(page, "new-chat-preset");
    await send(page, "Ahoy, who are you?");
    const first = sent("Ahoy, who are you?")!;
    expect(first.messages).toEqual([
      { role: "system", content: "Answer like a pirate <arr>." },
      { role: "user", content: "Ahoy, who are you?" },
    ]);
    expect(first.temperature).toBe(0.6);
    await expect(page.locator("#chat-settings-summary").textContent()).resolves.toContain(
      "System prompt · temperature 0.6",
    );
    expect(problems).toEqual([]);
  });

  test("choose how the chat's PDFs are read in its settings: the next PDF goes to OpenRouter's OCR, and its parse is sent back after", async () => {
    const { page, problems } = await s.open();

    await page.goto(s.server.url);
    await send(page, "I will send a scan");
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: "Chat settings" });
    const reading = dialog.getByLabel("Reading PDFs");
    await expect(reading.inputValue()).resolves.toBe("text");
    await expect(reading.locator("option").allTextContents()).resolves.toEqual([
      "Text extraction (free)",
      "OCR for scanned PDFs (paid)",
      "The model reads the PDF itself",
    ]);
    await reading.selectOption({ label: "OCR for scanned PDFs (paid)" });
    await dialog.getByRole("button", { name: "Save", exact: true }).click();
    await dialog.getByText("Saved: the next answer uses these settings.").waitFor();
    await expect(page.locator("#chat-settings-summary").textContent()).resolves.toContain("PDFs by OCR");
    await dialog.getByRole("button", { name: "Close" }).click();
    await dialog.waitFor({ state: "hidden" });

    const scan = pdf("Receipt: 3 croissants");
    await page
      .getByLabel("Attach files")
      .setInputFiles({ name: "scan.pdf", mimeType: "application/pdf", buffer: scan });
    await page.locator('#attachments > li[data-state="done"]').waitFor();
    await send(page, "What does the scan say?");
    // With a file the question is a list of parts: its text first.
    const asked = s.fake.requests.findLast((r) => r.body.stream)!.body;
    expect(asked.messages.at(-1)!.content[0]).toEqual({ type: "text", text: "What does the scan say?" });
    expect(asked.plugins).toEqual([{ id: "file-parser", pdf: { engine: "mistral-ocr" } }]);

    // The next turn sends the OCR's parse back on the answer it came with.
    await send(page, "And the total?");
    const part = {
      type: "file" as const,
      file: { filename: "scan.pdf", file_data: `data:application/pdf;base64,${Buffer.from(scan).toString("base64")}` },
    };
    expect(sent("And the total?")!.messages.find((m) => m.annotations)?.annotations).toEqual([
      fakeParse(part, "mistral-ocr"),
    ]);
    // Reopened, the dialog shows the choice saved.
    await page.getByRole("button", { name: "Settings", exact: true }).click();
    await expect(dialog.getByLabel("Reading PDFs").inputValue()).resolves.toBe("ocr");
    expect(problems).toEqual([]);
  });
});
