import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { PROJECT_FILES_INTRO } from "../../src/chat/pipeline.ts";
import { pdf, png } from "../files/samples.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

browserSuite("pglite", "project files in Chromium", { shots: "project-files" }, (s) => {
  /** The page at each size and scheme, as `<name>-<size>-<scheme>.png`; back to desktop light after. */
  async function shoot(page: Page, name: string) {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await s.shot(page, `${name}-${size}-${scheme}`, { fullPage: true });
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  }

  test("files uploaded on the project's page are listed, removed by keyboard, and sent with a chat started in the project", async () => {
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/projects`);
    await page.getByLabel("Name").fill("Bakery");
    await page.getByLabel(/^Instructions/).fill("You help a small bakery.");
    await page.getByRole("button", { name: "Make project" }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]+\?done=created$/);

    // Three files in one upload, swapped into the Files section by htmx (the page stays).
    const files = page.locator("#project-files");
    await files.getByText("No files yet.").waitFor();
    await page.getByLabel("Files to add to the project").setInputFiles([
      { name: "rye-recipe.txt", mimeType: "text/plain", buffer: Buffer.from("Rye: 70 % hydration, 2 h proof.\n") },
      { name: "crumb.png", mimeType: "image/png", buffer: png(8, 6, 2) },
      { name: "oven-manual.pdf", mimeType: "application/pdf", buffer: pdf("Oven at 240 degrees") },
    ]);
    const url = page.url();
    await files.getByRole("button", { name: "Add files" }).click();
    await files.getByText("Added “rye-recipe.txt”, “crumb.png”, “oven-manual.pdf”").waitFor();
    expect(page.url()).toBe(url);
    const names = () => files.locator("#project-file-list li a").allTextContents();
    expect(await names()).toEqual(["rye-recipe.txt", "crumb.png", "oven-manual.pdf"]);
    // The notice of what was done gets the focus (htmx's autofocus, as the swap settles): the button
    // pressed is gone with the old section.
    await page.waitForFunction(() => document.activeElement?.getAttribute("role") === "status");

    // A file of a kind Parley does not take is refused in a sentence, in place.
    await page
      .getByLabel("Files to add to the project")
      .setInputFiles([
        { name: "tool.bin", mimeType: "application/octet-stream", buffer: Buffer.from([0, 1, 2, 3, 255]) },
      ]);
    await files.getByRole("button", { name: "Add files" }).click();
    await files.getByRole("alert").getByText("“tool.bin” is not a kind of file Parley takes").waitFor();
    expect(await names()).toEqual(["rye-recipe.txt", "crumb.png", "oven-manual.pdf"]);

    // One added, then removed by keyboard alone.
    await page
      .getByLabel("Files to add to the project")
      .setInputFiles([{ name: "draft.txt", mimeType: "text/plain", buffer: Buffer.from("a draft to remove") }]);
    await files.getByRole("button", { name: "Add files" }).click();
    await files.getByText("Added “draft.txt”").waitFor();
    // The notice takes the focus as the swap settles: a focus moved before that was taken back,
    // and the Enter below pressed nothing (a failed CI run).
    await page.waitForFunction(() => document.activeElement?.getAttribute("role") === "status");
    await files.getByRole("button", { name: "Remove “draft.txt” from the project" }).focus();
    await page.keyboard.press("Enter");
    await files.getByText("“draft.txt” is out of the project.").waitFor();
    expect(await names()).toEqual(["rye-recipe.txt", "crumb.png", "oven-manual.pdf"]);
    await page.reload();
    await files.locator("#project-file-list").waitFor();
    await shoot(page, "project-page-files");

    // A chat started in the project: the page says the files go along, and the request carries them first.
    await page.getByRole("link", { name: "New chat in this project" }).click();
    await page.getByText("with its 3 files").waitFor();
    await page.getByLabel("Message").fill("How long should the rye proof?");
    await page.getByLabel("Message").press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await page.locator('article[data-role="assistant"][data-status="complete"]').waitFor();
    await page.locator("#chat-project").getByText("with its 3 files").waitFor();
    const sent = s.fake.requests.find(
      (r) => r.body.stream && r.body.messages.at(-1)?.content === "How long should the rye proof?",
    );
    expect(sent?.body.messages.map((m) => m.role)).toEqual(["system", "user", "user"]);
    const parts = sent!.body.messages[1]!.content;
    expect(Array.isArray(parts)).toBe(true);
    const described = (parts as { type: string; text?: string; file?: { filename: string } }[]).map((p) =>
      p.type === "text" ? p.text!.split("\n")[0] : p.type === "file" ? `file ${p.file!.filename}` : p.type,
    );
    expect(described).toEqual([
      PROJECT_FILES_INTRO,
      "Attached file “rye-recipe.txt”:",
      "Attached image “crumb.png”:",
      "image_url",
      "file oven-manual.pdf",
    ]);
    await shoot(page, "chat-in-project-with-files");
    // The refused file's 422 is what the browser and htmx log; nothing else went wrong.
    expect(problems.filter((p) => !p.includes("422"))).toEqual([]);
  });

  test("without JavaScript the upload and the removal are plain forms that come back to the page", async () => {
    const { page } = await s.open({ javaScript: false });
    await page.goto(`${s.server.url}/projects`);
    await page.getByLabel("Name").fill("Plain forms");
    await page.getByRole("button", { name: "Make project" }).click();
    await page.waitForURL(/\/projects\/[0-9a-f-]+\?done=created$/);
    await page
      .getByLabel("Files to add to the project")
      .setInputFiles([{ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("plain notes") }]);
    await page.getByRole("button", { name: "Add files" }).click();
    await page.waitForURL(/\?done=files-added#files$/);
    await page.getByText("The files are added").waitFor();
    expect(await page.locator("#project-file-list li a").allTextContents()).toEqual(["notes.txt"]);
    await page.getByRole("button", { name: "Remove “notes.txt” from the project" }).click();
    await page.waitForURL(/\?done=file-removed#files$/);
    await page.locator("#project-files").getByText("No files yet.").waitFor();
  });
});
