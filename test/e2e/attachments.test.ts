import { expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { fileSize } from "../../src/limits.ts";
import { file, pdf, png, text } from "../files/samples.ts";
import { upload } from "../files/support.ts";
import { browserSuite, SIZES } from "../support/e2e.ts";

/** Small enough that an over-size file is quick to make; large enough for the scaled images. */
const MAX_FILE_MB = 2;

/** A file to hand to the page: its name, the type the browser would claim, its bytes. */
type PageFile = { name: string; type: string; base64: string };
const pageFile = (name: string, type: string, bytes: Uint8Array): PageFile => ({
  name,
  type,
  base64: Buffer.from(bytes).toString("base64"),
});

/** A chip as the person sees it, and the form field it leaves behind. */
type Chip = {
  name: string;
  size: string;
  state: string;
  error: string | null;
  /** The hidden `attachment` input's value, if the chip has one. */
  id: string | null;
  inComposerForm: boolean;
  progress: { value: number; max: number; shown: boolean } | null;
  thumbnail: { src: string; naturalWidth: number } | null;
  badge: string | null;
  removeLabel: string | null;
};

/** A PNG's width and height, from its IHDR chunk. */
const pngSize = (bytes: Uint8Array) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
};

const SUITE = { env: { MAX_FILE_MB: String(MAX_FILE_MB) } };

browserSuite("postgres", "attachments in the composer, in Chromium", SUITE, (s) => {
  // caret "initial": Playwright hides the caret with an inline <style>, which the page's CSP refuses.
  const shot = (page: Page, name: string) => s.shot(page, name, { caret: "initial" });
  const shots = async (page: Page, name: string) => {
    for (const [size, viewport] of Object.entries(SIZES)) {
      for (const scheme of ["light", "dark"] as const) {
        await page.setViewportSize(viewport);
        await page.emulateMedia({ colorScheme: scheme });
        await shot(page, `${name}-${size}-${scheme}`);
      }
    }
    await page.setViewportSize(SIZES.desktop);
    await page.emulateMedia({ colorScheme: "light" });
  };
  const box = (page: Page) => page.getByLabel("Message", { exact: true });
  const attachInput = (page: Page) => page.getByLabel("Attach files");
  const completeAnswers = (page: Page) => page.locator('article[data-role="assistant"][data-status="complete"]');
  /** Sends from the new-chat page and waits for the answer. */
  const startChat = async (page: Page, content: string) => {
    await page.goto(s.server.url);
    await box(page).fill(content);
    await box(page).press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await completeAnswers(page).first().waitFor();
  };

  /** Waits until no chip is uploading any more, then reads them all. */
  const settledChips = async (page: Page, count: number): Promise<Chip[]> => {
    await page.waitForFunction(
      (n) =>
        document.querySelectorAll("#attachments > li").length === n &&
        !document.querySelector('#attachments > li[data-state="uploading"]'),
      count,
    );
    return readChips(page);
  };
  const readChips = (page: Page): Promise<Chip[]> =>
    page.$$eval("#attachments > li", (items) =>
      items.map((li) => {
        const el = li as HTMLElement;
        const bar = el.querySelector("progress");
        const img = el.querySelector("img[data-thumb]") as HTMLImageElement | null;
        const error = el.querySelector("[data-error]") as HTMLElement | null;
        const badge = el.querySelector("[data-badge]") as HTMLElement | null;
        return {
          name: el.querySelector("[data-name]")?.textContent ?? "",
          size: el.querySelector("[data-size]")?.textContent ?? "",
          state: el.dataset.state ?? "",
          error: error && !error.hidden ? error.textContent : null,
          id: (el.querySelector('input[type="hidden"][name="attachment"]') as HTMLInputElement | null)?.value ?? null,
          inComposerForm: !!el.closest("form[data-composer]"),
          progress: bar ? { value: bar.value, max: bar.max, shown: bar.getClientRects().length > 0 } : null,
          thumbnail: img && !img.hidden ? { src: img.getAttribute("src") ?? "", naturalWidth: img.naturalWidth } : null,
          badge: badge && !badge.hidden ? badge.textContent : null,
          removeLabel: el.querySelector("[data-remove]")?.getAttribute("aria-label") ?? null,
        };
      }),
    );
  /** What the composer form would send now, as a browser builds it. */
  const formAttachments = (page: Page) =>
    page.evaluate(
      () =>
        new FormData(document.querySelector("form[data-composer]") as HTMLFormElement).getAll("attachment") as string[],
    );
  /** Names of the chips that showed a progress bar while uploading, recorded from now on. */
  const watchProgress = (page: Page) =>
    page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      const look = () => {
        for (const li of Array.from(document.querySelectorAll('#attachments > li[data-state="uploading"]'))) {
          const name = li.querySelector("[data-name]")?.textContent ?? "";
          const bar = li.querySelector("progress");
          if (bar?.getClientRects().length && !seen.includes(name)) seen.push(name);
        }
      };
      new MutationObserver(look).observe(document.getElementById("attachments")!, {
        childList: true,
        subtree: true,
        attributes: true,
      });
    });
  const progressSeen = (page: Page) =>
    page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen);
  const served = async (id: string): Promise<Buffer> => {
    const res = await s.server.fetch(`/files/${id}`);
    expect(res.status).toBe(200);
    return Buffer.from(await res.arrayBuffer());
  };
  const thumbnailLoaded = (page: Page, id: string) =>
    page.waitForFunction((id) => {
      const img = document.querySelector(`#attachments img[src="/files/${id}"]`) as HTMLImageElement | null;
      return !!img && !img.hidden && img.complete && img.naturalWidth > 0;
    }, id);

  /** Pastes files into the message box, as the clipboard of a screenshot would. Answers whether the paste's default was prevented. */
  const paste = (page: Page, files: PageFile[]) =>
    page.evaluate((files) => {
      const data = new DataTransfer();
      for (const f of files) {
        data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
      }
      const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
      document.getElementById("message")!.dispatchEvent(event);
      return event.defaultPrevented;
    }, files);
  /** Drags files over an element and drops them there; answers whether the drop zone was highlighted meanwhile, and after. */
  const drop = (page: Page, selector: string, files: PageFile[]) =>
    page.evaluate(
      ({ selector, files }) => {
        const data = new DataTransfer();
        for (const f of files) {
          data.items.add(new File([Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0))], f.name, { type: f.type }));
        }
        const target = document.querySelector(selector)!;
        const highlighted = () => !!document.querySelector("[data-drop-files][data-dragging]");
        const init = { dataTransfer: data, bubbles: true, cancelable: true };
        target.dispatchEvent(new DragEvent("dragenter", init));
        const over = new DragEvent("dragover", init);
        target.dispatchEvent(over);
        const during = highlighted();
        const overlay = document.querySelector("[data-drop-files] > [aria-hidden]:last-child");
        const overlayShown = !!overlay && getComputedStyle(overlay).display !== "none";
        const dropped = new DragEvent("drop", init);
        target.dispatchEvent(dropped);
        return { during, overlayShown, after: highlighted(), dropPrevented: dropped.defaultPrevented };
      },
      { selector, files },
    );

  const loaf = png(40, 30, 7);
  const notes = text();
  const report = pdf();

  test("Attach files: each file shows as a chip with its name and size, uploads with a progress bar, and leaves its id in the form; Remove takes it back", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    // The picker is a real file input: labelled, reachable by focus, though only its label is seen.
    const input = attachInput(page);
    expect(await input.getAttribute("type")).toBe("file");
    expect(await input.getAttribute("multiple")).not.toBeNull();
    expect((await input.getAttribute("accept"))?.split(",")).toEqual(
      expect.arrayContaining([
        "image/png",
        "image/jpeg",
        "image/webp",
        "image/gif",
        "application/pdf",
        "text/*",
        ".ts",
      ]),
    );
    // Reached by keyboard (just before the message box), and its label shows the focus.
    await box(page).focus();
    await page.keyboard.press("Shift+Tab");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await input.evaluate((el) => getComputedStyle(el.closest("label")!).boxShadow)).not.toBe("none");
    expect(await page.getByRole("list", { name: "Attached files" }).getAttribute("aria-live")).toBe("polite");

    await watchProgress(page);
    await input.setInputFiles([
      { name: "loaf.png", mimeType: "image/png", buffer: loaf },
      { name: "report.pdf", mimeType: "application/pdf", buffer: report },
      { name: "notes.txt", mimeType: "text/plain", buffer: notes },
    ]);
    const chips = await settledChips(page, 3);
    expect(chips.map((c) => [c.name, c.size, c.state, c.error])).toEqual([
      ["loaf.png", fileSize(loaf.length), "done", null],
      ["report.pdf", fileSize(report.length), "done", null],
      ["notes.txt", fileSize(notes.length), "done", null],
    ]);
    expect(await progressSeen(page)).toEqual(["loaf.png", "report.pdf", "notes.txt"]);
    for (const chip of chips) {
      expect(chip.progress).toEqual({ value: 1, max: 1, shown: false });
      expect(chip.inComposerForm).toBe(true);
      expect(chip.removeLabel).toBe(`Remove ${chip.name}`);
    }
    const ids = chips.map((c) => c.id!);
    expect(ids.every((id) => /^[0-9a-f-]{36}$/.test(id))).toBe(true);
    expect(await formAttachments(page)).toEqual(ids);
    expect(await served(ids[0]!)).toEqual(loaf);
    expect(await served(ids[1]!)).toEqual(report);
    expect(await served(ids[2]!)).toEqual(notes);
    // The image's thumbnail is the stored file; the others show their kind.
    await thumbnailLoaded(page, ids[0]!);
    const [image, document_, textFile] = await readChips(page);
    expect(image!.thumbnail).toEqual({ src: `/files/${ids[0]}`, naturalWidth: 40 });
    expect([document_!.thumbnail, document_!.badge]).toEqual([null, "pdf"]);
    expect([textFile!.thumbnail, textFile!.badge]).toEqual([null, "txt"]);
    await expect(page.getByRole("list", { name: "Attached files" }).getByRole("listitem").count()).resolves.toBe(3);

    await box(page).focus();
    await shots(page, "attachments-chips");

    await page.getByRole("button", { name: "Remove report.pdf" }).click();
    expect((await readChips(page)).map((c) => c.name)).toEqual(["loaf.png", "notes.txt"]);
    expect(await formAttachments(page)).toEqual([ids[0]!, ids[2]!]);
    // Focus stays in the list, on the next chip's Remove.
    expect(await page.evaluate(() => document.activeElement?.getAttribute("aria-label"))).toBe("Remove notes.txt");
    await page.getByRole("button", { name: "Remove notes.txt" }).click();
    await page.getByRole("button", { name: "Remove loaf.png" }).click();
    expect(await readChips(page)).toEqual([]);
    expect(await formAttachments(page)).toEqual([]);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("message");
    expect(problems).toEqual([]);
  });

  test("an image pasted into the message box and files dropped on the composer are attached; sending takes them along and clears them", async () => {
    const { page, problems } = await s.open();
    await startChat(page, "warm up");
    const screenshot = png(24, 16, 3);
    expect(await paste(page, [pageFile("image.png", "image/png", screenshot)])).toBe(true);
    const [pasted] = await settledChips(page, 1);
    expect(pasted!.name).toMatch(/^pasted-image-\d{4}-\d{2}-\d{2}-\d{6}\.png$/);
    expect([pasted!.size, pasted!.state]).toEqual([fileSize(screenshot.length), "done"]);
    expect(await served(pasted!.id!)).toEqual(screenshot);
    await thumbnailLoaded(page, pasted!.id!);

    // Dropped beside the composer, files are neither attached nor opened by the browser.
    const beside = await drop(page, "#transcript", [pageFile("report.pdf", "application/pdf", report)]);
    expect(beside).toEqual({ during: false, overlayShown: false, after: false, dropPrevented: true });
    expect(await readChips(page)).toHaveLength(1);

    // How the composer looks while files are dragged over it.
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(["x"], "x.txt", { type: "text/plain" }));
      document
        .getElementById("message")!
        .dispatchEvent(new DragEvent("dragover", { dataTransfer: data, bubbles: true, cancelable: true }));
    });
    await shot(page, "attachments-dragging-desktop-light");
    await page.evaluate(() => {
      document
        .getElementById("message")!
        .dispatchEvent(new DragEvent("dragleave", { bubbles: true, relatedTarget: document.body }));
    });
    await page.waitForFunction(() => !document.querySelector("[data-drop-files][data-dragging]"));

    const dropped = await drop(page, "#message", [
      pageFile("report.pdf", "application/pdf", report),
      pageFile("notes.txt", "text/plain", notes),
    ]);
    expect(dropped).toEqual({ during: true, overlayShown: true, after: false, dropPrevented: true });
    const chips = await settledChips(page, 3);
    expect(chips.map((c) => [c.name, c.size, c.state])).toEqual([
      [pasted!.name, fileSize(screenshot.length), "done"],
      ["report.pdf", fileSize(report.length), "done"],
      ["notes.txt", fileSize(notes.length), "done"],
    ]);
    expect(await served(chips[1]!.id!)).toEqual(report);
    expect(await served(chips[2]!.id!)).toEqual(notes);

    // The send over the socket carries the ids; once the server has taken it, the chips go.
    await page.evaluate(() => {
      document.addEventListener("htmx:wsBeforeSend", (event) => {
        (window as unknown as { sent: string }).sent = (event as CustomEvent<{ message: string }>).detail.message;
      });
    });
    await box(page).fill("read these");
    await box(page).press("Enter");
    await page.locator('article[data-role="user"]', { hasText: "read these" }).waitFor();
    const sent = JSON.parse(await page.evaluate(() => (window as unknown as { sent: string }).sent));
    expect(sent).toMatchObject({ action: "send", content: "read these", attachment: chips.map((c) => c.id) });
    await page.waitForFunction(() => document.querySelectorAll("#attachments > li").length === 0);
    expect(await formAttachments(page)).toEqual([]);
    expect(await box(page).inputValue()).toBe("");
    await completeAnswers(page).nth(1).waitFor();
    // What the model was asked: the words, then each file as the part its kind makes, in order.
    const dataUrl = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString("base64")}`;
    const asked = s.fake.requests.findLast((r) =>
      r.body.messages.some((m: { content: unknown }) => JSON.stringify(m.content).includes("read these")),
    );
    expect(asked!.body.messages.at(-1)).toEqual({
      role: "user",
      content: [
        { type: "text", text: "read these" },
        { type: "text", text: `Attached image “${pasted!.name}”:` },
        { type: "image_url", image_url: { url: dataUrl("image/png", screenshot) } },
        { type: "file", file: { filename: "report.pdf", file_data: dataUrl("application/pdf", report) } },
        { type: "text", text: `Attached file “notes.txt”:\n\`\`\`\n${notes.toString("utf8")}\n\`\`\`` },
      ],
    });
    // The message shows its files: the image as a thumbnail that loads, the others as downloads.
    const message = page.locator('article[data-role="user"]', { hasText: "read these" });
    const thumbnail = message.locator(`img[src="/files/${chips[0]!.id}"]`);
    await page.waitForFunction((id) => {
      const img = document.querySelector<HTMLImageElement>(`article[data-role="user"] img[src="/files/${id}"]`);
      return Boolean(img?.complete && img.naturalWidth > 0);
    }, chips[0]!.id);
    expect(await thumbnail.getAttribute("alt")).toBe(chips[0]!.name);
    for (const chip of chips.slice(1)) {
      expect(await message.locator(`a[href="/files/${chip.id}"]`).getAttribute("download")).toBe(chip.name);
    }
    await shots(page, "attachments-sent");
    expect(problems).toEqual([]);
  });

  test("text pasted past what a message holds is attached as a text file, and the composer says so; shorter text is pasted as usual", async () => {
    const { page, problems } = await s.open();
    await startChat(page, "warm up");
    const pasteText = (text: string) =>
      page.evaluate((text) => {
        const data = new DataTransfer();
        data.setData("text/plain", text);
        const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
        document.getElementById("message")!.dispatchEvent(event);
        return event.defaultPrevented;
      }, text);
    expect(await pasteText("a short line")).toBe(false);
    expect(await readChips(page)).toHaveLength(0);
    const long = "A line of a long log.\n".repeat(2_000); // 44,000 characters: past the 32,000 a message holds
    expect(await pasteText(long)).toBe(true);
    const [chip] = await settledChips(page, 1);
    expect(chip!.name).toMatch(/^pasted-text-\d{4}-\d{2}-\d{2}-\d{6}\.txt$/);
    expect([chip!.size, chip!.state]).toEqual([fileSize(long.length), "done"]);
    expect((await served(chip!.id!)).toString()).toBe(long);
    expect(await page.locator("#composer-status").textContent()).toBe(
      "The pasted text (44,000 characters) is more than a message holds (32,000), so it is attached as a file.",
    );
    expect(await page.getByLabel("Message").inputValue()).toBe("");
    await shot(page, "attachments-long-paste-desktop-light");
    expect(problems).toEqual([]);
  });

  test("a file alone is a message: with a file attached the box needs no words, and without one it does", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    // Nothing typed, nothing attached: Enter sends nothing, and the box says it needs words.
    await box(page).press("Enter");
    expect(await box(page).evaluate((el: HTMLTextAreaElement) => el.required && !el.validity.valid)).toBe(true);
    expect(page.url()).toBe(`${s.server.url}/`);

    const screenshot = png(12, 8, 5);
    await attachInput(page).setInputFiles([{ name: "bug.png", mimeType: "image/png", buffer: screenshot }]);
    const [chip] = await settledChips(page, 1);
    expect(await box(page).evaluate((el: HTMLTextAreaElement) => el.required)).toBe(false);
    const before = s.fake.requests.length;
    await box(page).press("Enter");
    await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    await completeAnswers(page).first().waitFor();
    // The model is asked with the image as the whole message (after its name): no empty text part.
    const asked = s.fake.requests
      .slice(before)
      .find((r) => r.body.messages.some((m: { role: string }) => m.role === "user"));
    const question = asked!.body.messages.filter((m: { role: string }) => m.role === "user").at(-1);
    expect(question!.content).toEqual([
      { type: "text", text: "Attached image “bug.png”:" },
      { type: "image_url", image_url: { url: `data:image/png;base64,${screenshot.toString("base64")}` } },
    ]);
    const message = page.locator('article[data-role="user"]');
    await message.locator(`img[src="/files/${chip!.id}"]`).waitFor();
    // No empty bubble of words under the image.
    expect(await message.locator("[data-body]").isVisible()).toBe(false);
    // Once the chip went with the message, the next message needs words again.
    await page.waitForFunction(() => document.querySelectorAll("#attachments > li").length === 0);
    expect(await box(page).evaluate((el: HTMLTextAreaElement) => el.required)).toBe(true);
    await shots(page, "attachments-file-alone");
    expect(problems).toEqual([]);
  });

  test("Send waits while a file is still uploading, and says why", async () => {
    const { page, problems } = await s.open();
    await startChat(page, "warm up");
    const users = page.locator('article[data-role="user"]');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route("**/files", async (route) => {
      await held;
      await route.continue();
    });
    await attachInput(page).setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: notes });
    await page.locator('#attachments > li[data-state="uploading"]').waitFor();
    await shots(page, "attachments-uploading");
    await box(page).fill("wait for my file");
    await box(page).press("Enter");
    const status = page.locator("#composer-status");
    await expect(status.textContent()).resolves.toBe("Wait for the file to finish uploading, then send.");
    // The Send button is stopped the same way.
    await page.getByRole("button", { name: "Send" }).click();
    await expect(status.textContent()).resolves.toBe("Wait for the file to finish uploading, then send.");
    expect(await box(page).inputValue()).toBe("wait for my file");
    expect(await users.count()).toBe(1);

    release();
    const [chip] = await settledChips(page, 1);
    expect(chip!.state).toBe("done");
    await page.waitForFunction(() => document.getElementById("composer-status")?.textContent === "");
    await page.unroute("**/files");
    await box(page).press("Enter");
    await users.nth(1).waitFor();
    expect(await users.nth(1).textContent()).toContain("wait for my file");
    await page.waitForFunction(() => document.querySelectorAll("#attachments > li").length === 0);
    await completeAnswers(page).nth(1).waitFor();
    expect(problems).toEqual([]);
  });

  test("a send the server refuses keeps its chips and their ids; the next send it takes clears them", async () => {
    const { page, problems } = await s.open();
    await startChat(page, "warm up");
    // The answer stalls after a few words, so it is still being written when the second send
    // comes, however long the upload took (it ran out first on a slow run); Stop ends it.
    s.fake.queue({ text: "word ".repeat(200), tokenDelayMs: 20, tokenSize: 5, stallAfterTokens: 5 });
    await box(page).fill("a long one");
    await box(page).press("Enter");
    const stop = page.locator("#composer-controls").getByRole("button", { name: "Stop" });
    await stop.waitFor();
    await attachInput(page).setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: notes });
    const [chip] = await settledChips(page, 1);

    // While an answer is written, a send is refused, with the text put back.
    await box(page).fill("with my notes");
    await box(page).press("Enter");
    await page.locator('#composer-status[data-kind="error"]').waitFor();
    expect(await box(page).inputValue()).toBe("with my notes");
    expect(await readChips(page)).toEqual([chip!]);
    expect(await formAttachments(page)).toEqual([chip!.id!]);

    await stop.click();
    await page.locator("#composer-controls").getByRole("button", { name: "Send" }).waitFor();
    await box(page).press("Enter");
    await page.locator('article[data-role="user"]', { hasText: "with my notes" }).waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#attachments > li").length === 0);
    expect(await formAttachments(page)).toEqual([]);
    await page.locator('article[data-role="assistant"]').nth(2).and(completeAnswers(page)).waitFor();
    expect(problems).toEqual([]);
  });

  test("where there is no composer (the account page's import form), dragged files are left to the browser", async () => {
    const { page, problems } = await s.open();
    await page.goto(`${s.server.url}/account`);
    const prevented = await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(["{}"], "export.json", { type: "application/json" }));
      const input = document.getElementById("import-file")!;
      return ["dragover", "drop"].map((type) => {
        const event = new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true });
        input.dispatchEvent(event);
        return event.defaultPrevented;
      });
    });
    expect(prevented).toEqual([false, false]);
    expect(problems).toEqual([]);
  });

  test("a file the server refuses shows its sentence and carries no id", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const big = file(Buffer.alloc(MAX_FILE_MB * 1024 * 1024 + 300 * 1024, "a"), "big.txt", "text/plain");
    const notImage = file(text("not a picture\n"), "photo.png", "image/png");
    const sentences: string[] = [];
    for (const f of [big, notImage]) {
      const res = await upload(s.server, [f]);
      expect(res.status).toBeGreaterThanOrEqual(400);
      sentences.push(((await res.json()) as { error: string }).error);
    }
    expect(sentences[0]).toContain(`larger than ${MAX_FILE_MB} MB`);
    expect(sentences[1]).toBe("“photo.png” is not a PNG, JPEG, WebP or GIF image, whatever its name says.");

    await attachInput(page).setInputFiles([
      { name: "big.txt", mimeType: "text/plain", buffer: Buffer.from(await big.arrayBuffer()) },
      { name: "photo.png", mimeType: "image/png", buffer: Buffer.from(await notImage.arrayBuffer()) },
      { name: "notes.txt", mimeType: "text/plain", buffer: notes },
    ]);
    const chips = await settledChips(page, 3);
    expect(chips.map((c) => [c.name, c.state, c.error, c.id])).toEqual([
      ["big.txt", "error", sentences[0]!, null],
      ["photo.png", "error", sentences[1]!, null],
      ["notes.txt", "done", null, chips[2]!.id!],
    ]);
    expect(chips.map((c) => c.progress?.shown)).toEqual([false, false, false]);
    expect(await formAttachments(page)).toEqual([chips[2]!.id!]);
    await page.getByRole("list", { name: "Attached files" }).scrollIntoViewIfNeeded();
    await shots(page, "attachments-refused");
    await page.getByRole("button", { name: "Remove big.txt" }).click();
    expect((await readChips(page)).map((c) => c.name)).toEqual(["photo.png", "notes.txt"]);
    // Chromium logs each refused upload's status; those were the point.
    expect(problems.filter((p) => !/status of (413|422)/.test(p))).toEqual([]);
  });

  test("an image over 2,048 px on its longest side is scaled down in the browser before upload, in its own type", async () => {
    const { page, problems } = await s.open();
    await page.goto(s.server.url);
    const wide = png(3000, 1000, 5);
    await attachInput(page).setInputFiles({ name: "wide.png", mimeType: "image/png", buffer: wide });
    const [chip] = await settledChips(page, 1);
    expect(chip!.state).toBe("done");
    const stored = await served(chip!.id!);
    expect(pngSize(stored)).toEqual({ width: 2048, height: 683 });
    expect(chip!.size).toBe(fileSize(stored.length));
    // Asked for, the original goes instead, byte for byte; an image that was not scaled offers nothing.
    const useOriginal = page.getByRole("button", { name: `Use the original of wide.png (${fileSize(wide.length)})` });
    await shot(page, "attachments-scaled-desktop-light");
    await useOriginal.click();
    await page.waitForFunction(
      (scaled) =>
        !document.querySelector('#attachments > li[data-state="uploading"]') &&
        (document.querySelector('#attachments input[name="attachment"]') as HTMLInputElement | null)?.value !== scaled,
      chip!.id,
    );
    const [kept] = await readChips(page);
    expect([kept!.state, kept!.size]).toEqual(["done", fileSize(wide.length)]);
    expect(await served(kept!.id!)).toEqual(wide);
    expect(await formAttachments(page)).toEqual([kept!.id!]);
    expect(await useOriginal.count()).toBe(0);
    await page.locator("#attachments [data-remove]").click();
    await attachInput(page).setInputFiles({ name: "small.png", mimeType: "image/png", buffer: png(40, 30, 2) });
    await settledChips(page, 1);
    expect(await page.locator("#attachments [data-original]:visible").count()).toBe(0);
    await page.locator("#attachments [data-remove]").click();

    // A JPEG and a WebP drawn in the page, tall and wide, dropped on the composer.
    await page.evaluate(async () => {
      const draw = async (type: string, width: number, height: number, name: string) => {
        const canvas = document.createElement("canvas");
        canvas.width = width;
        canvas.height = height;
        const ctx = canvas.getContext("2d")!;
        ctx.fillStyle = "#c2410c";
        ctx.fillRect(0, 0, width, height);
        ctx.fillStyle = "#fde68a";
        ctx.fillRect(width / 4, height / 4, width / 2, height / 2);
        const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, type, 0.9));
        return new File([blob!], name, { type });
      };
      const data = new DataTransfer();
      data.items.add(await draw("image/jpeg", 2400, 3200, "tall.jpg"));
      data.items.add(await draw("image/webp", 4096, 512, "wide.webp"));
      document.getElementById("message")!.dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true }));
    });
    const [jpeg, webp] = await settledChips(page, 2);
    const dimensions = async (id: string) => {
      await thumbnailLoaded(page, id);
      return page.evaluate(async (id) => {
        const img = new Image();
        img.src = `/files/${id}`;
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      }, id);
    };
    expect(await dimensions(jpeg!.id!)).toEqual([1536, 2048]);
    expect(await dimensions(webp!.id!)).toEqual([2048, 256]);
    for (const [chip, type] of [
      [jpeg!, "image/jpeg"],
      [webp!, "image/webp"],
    ] as const) {
      const res = await s.server.fetch(`/files/${chip.id}`);
      expect(res.headers.get("content-type")).toBe(type);
    }
    expect(problems).toEqual([]);
  });
});
