import { Elysia } from "elysia";
import { ImportPage } from "../../views/pages/import.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import type { AssetUrls } from "../http/assets.ts";
import { contentDisposition } from "../http/disposition.ts";
import { jsonContent } from "../http/openapi.ts";
import { pageWithStatus } from "../http/page.ts";
import { MAX_IMPORT_BYTES } from "../limits.ts";
import { exportSchema } from "./parley-format.ts";
import { count, ImportError, tooLarge } from "./read.ts";
import type { ImportSummary, TransferService } from "./service.ts";

/** The import route takes bodies up to its own limit (see http/body-limit.ts); every other route 1 MiB. */
export const IMPORT_ROUTE = "POST /account/import";
/** What a multipart body adds around the file: boundaries and part headers, a few hundred bytes. */
const MULTIPART_ALLOWANCE = 64 * 1024;

/**
 * Downloads of one chat (Markdown, JSON) and of all chats; the import form's target and its
 * summary. The Markdown links files on this server as the person reaches it, unless PUBLIC_URL says otherwise.
 */
export function transferRoutes(service: TransferService, auth: AuthService, assets: AssetUrls, publicUrl?: string) {
  return new Elysia({ name: "transfer-routes" })
    .use(requireSignIn(auth))
    .get("/chats/:id/export.md", async ({ me, params, request, status }) => {
      const filesUrl = `${publicUrl ?? new URL(request.url).origin}/files`;
      const found = await service.markdown(me!.user.id, params.id, filesUrl);
      if (!found) return status(404, "There is no such chat.");
      return download(found.text, "text/markdown; charset=utf-8", fileName(found.chat.title, "md"));
    })
    .get(
      "/chats/:id/export.json",
      async ({ me, params, status }) => {
        const found = await service.json(me!.user.id, params.id);
        if (!found) return status(404, "There is no such chat.");
        const body = byteStream(found.pieces);
        return download(body, "application/json; charset=utf-8", fileName(found.chat.title, "json"));
      },
      exportDetail("One chat as a JSON file", "A file of one chat.", {
        404: { description: "No chat of yours has this id." },
      }),
    )
    .get(
      "/account/export.json",
      ({ me }) => {
        const body = byteStream(service.all(me!.user.id));
        const day = new Date().toISOString().slice(0, 10);
        return download(body, "application/json; charset=utf-8", { ascii: `parley-chats-${day}.json` });
      },
      exportDetail("All your chats as one JSON file", "Sent as it is read from the database."),
    )
    .get("/account/import", ({ me, query }) => ImportPage({ assets, user: me!.user, notice: summary(query) }))
    .post(
      "/account/import",
      async ({ me, request, redirect }) => {
        try {
          refuseTooLarge(request);
          // The upload is read only once this import has its place: a refusal comes before it.
          const imported = await service.importFile(me!.user, () => uploadedFile(request));
          // A redirect, so that reloading the summary does not import the file again.
          const query = new URLSearchParams(Object.entries(imported).map(([k, v]) => [k, String(v)]));
          return redirect(`/account/import?${query}`, 303);
        } catch (err) {
          if (!(err instanceof ImportError)) throw err;
          return pageWithStatus(err.status, await ImportPage({ assets, user: me!.user, error: err.message }));
        }
      },
      // Read by the handler, after the sign-in and same-origin checks: nobody's upload is parsed.
      { parse: "none" },
    );
}

/** How an export route is described in the OpenAPI spec (see http/openapi.ts). */
function exportDetail(summary: string, more: string, otherResponses: Record<number, { description: string }> = {}) {
  return {
    detail: {
      tags: ["export"],
      summary,
      description: `A download (Content-Disposition: attachment) in Parley's export format, which the account page's import reads back. ${more}`,
      security: [{ session: [] }],
      responses: {
        200: { description: "The file.", content: jsonContent(exportSchema) },
        303: { description: "No session: sent to /signin." },
        ...otherResponses,
      },
    },
  };
}

/** Refuses an upload whose request says it is too large, before any of it is read. */
function refuseTooLarge(request: Request) {
  const length = Number(request.headers.get("content-length"));
  if (length > MAX_IMPORT_BYTES + MULTIPART_ALLOWANCE) throw tooLarge(length);
}

/** The file of the import form. */
async function uploadedFile(request: Request): Promise<Blob> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new ImportError("The upload could not be read; choose the file and send the form again.");
  }
  const file = form.get("file");
  if (!(file instanceof Blob) || (file.size === 0 && !(file as File).name)) {
    throw new ImportError("Choose a file to import.");
  }
  return file;
}

/** The summary sentence from the redirect's numbers; nothing for anything else. */
function summary(query: Record<string, string | undefined>): string | undefined {
  const n = (key: keyof ImportSummary) => {
    const value = Number(query[key]);
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const chats = n("chats");
  const messages = n("messages");
  if (chats === undefined || messages === undefined) return undefined;
  const skipped = n("skipped") ?? 0;
  const files = n("files") ?? 0;
  const alreadyHere = n("alreadyHere") ?? 0;
  const plural = (k: number, word: string) => `${count(k)} ${word}${k === 1 ? "" : "s"}`;
  const left = skipped
    ? ` ${plural(skipped, "conversation")} with no text message ${skipped === 1 ? "was" : "were"} left out.`
    : "";
  const here = alreadyHere
    ? ` ${plural(alreadyHere, "chat")} ${alreadyHere === 1 ? "was" : "were"} already here from an earlier import, and skipped.`
    : "";
  const attached = files ? ` and ${plural(files, "file")}` : "";
  const imported =
    chats || !alreadyHere
      ? `Imported ${plural(chats, "chat")} with ${plural(messages, "message")}${attached}.`
      : "Nothing new to import.";
  return `${imported}${here}${left}`;
}

/** Text written piece by piece, sent as it is written (a client that goes away stops the writing). */
function byteStream(pieces: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    async pull(controller) {
      const { value, done } = await pieces.next();
      if (done) controller.close();
      else controller.enqueue(encoder.encode(value));
    },
    async cancel() {
      await pieces.return(undefined);
    },
  });
}

/** A file to save, never shown in place (and never cached: it is the person's own data). */
function download(body: string | ReadableStream, contentType: string, name: { ascii: string; utf8?: string }) {
  return new Response(body, {
    headers: {
      "content-type": contentType,
      "content-disposition": contentDisposition("attachment", name),
      "cache-control": "no-store",
    },
  });
}

/**
 * A file name from a chat's title: in ASCII letters, digits and dashes for every browser, and
 * the title as written (less what file systems refuse) for those that read `filename*`.
 */
export function fileName(title: string, extension: string): { ascii: string; utf8: string } {
  const words = (text: string) => text.trim().replace(/\s+/g, " ").slice(0, 80).trim() || "chat";
  const ascii = words(
    title
      .normalize("NFKD")
      .replace(/[^A-Za-z0-9 _-]+/g, " ")
      .replace(/[ _]+/g, " "),
  ).replaceAll(" ", "-");
  // Control characters, path separators and what Windows forbids; a leading dot would hide the file.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const utf8 = words(title.replace(/[\u0000-\u001f\u007f<>:"/\\|?*]+/g, " ").replace(/^[.\s]+/, ""));
  return { ascii: `${ascii}.${extension}`, utf8: `${utf8}.${extension}` };
}
