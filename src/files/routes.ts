import { Elysia } from "elysia";
import { StorageUse } from "../../views/components/storage.tsx";
import { requireSignIn } from "../auth/guard.ts";
import type { AuthService } from "../auth/service.ts";
import { fileSize } from "../limits.ts";
import { FileError } from "./kinds.ts";
import { fileResponse } from "./serve.ts";
import type { FileService, Upload } from "./service.ts";

/** The upload route takes bodies up to a file's limit (see http/body-limit.ts); every other route 1 MiB. */
export const UPLOAD_ROUTE = "POST /files";
/** What a multipart body adds around its files: boundaries and part headers. */
const MULTIPART_ALLOWANCE = 64 * 1024;

const NO_SUCH_FILE = "There is no such file.";

/**
 * The same bytes are always at the same id, so a browser may keep a file as long as it likes; but
 * only in this person's own browser cache (private), and only for this session's cookie (Vary),
 * so that someone signing in next on a shared computer is asked again and gets the 404.
 */
const OWNER_CACHING = { "cache-control": "private, max-age=31536000, immutable", vary: "cookie" };

/**
 * POST /files stores an upload (multipart, its `file` fields) and answers each file's id, name,
 * size and type as JSON; GET /files/:id serves a file to its owner alone.
 */
export function fileRoutes(files: FileService, auth: AuthService) {
  return new Elysia({ name: "file-routes" })
    .use(requireSignIn(auth))
    .post(
      "/files",
      async ({ me, request }) => {
        try {
          refuseTooLarge(request, files.limits.fileBytes);
          return Response.json({ files: await files.store(me!.user.id, await uploads(request)) });
        } catch (err) {
          if (!(err instanceof FileError)) throw err;
          return Response.json({ error: err.message }, { status: err.status });
        }
      },
      // Read by the handler, after the sign-in and same-origin checks: nobody's upload is parsed.
      { parse: "none" },
    )
    .get("/account/files", async ({ me }) =>
      StorageUse({ used: await files.storageUsed(me!.user.id), limit: files.limits.perPerson }),
    )
    .get("/files/:id", async ({ me, params, request, status }) => {
      const file = await files.get(me!.user.id, params.id);
      if (!file) return status(404, NO_SUCH_FILE);
      return fileResponse(file, request, OWNER_CACHING);
    });
}

/** Refuses an upload whose request says it is larger than a file may be, before any of it is read. */
export function refuseTooLarge(request: Request, fileBytes: number) {
  const length = Number(request.headers.get("content-length"));
  if (length > fileBytes + MULTIPART_ALLOWANCE) {
    throw new FileError(
      `This upload is larger than ${fileSize(fileBytes)}, the most a file (or one upload) may be: send large files one at a time.`,
      413,
    );
  }
}

/** The files of the form (its `file` fields), in order. */
export async function uploads(request: Request): Promise<Upload[]> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    // A body cut off half-way (the final boundary never came) lands here: nothing is stored.
    throw new FileError("The upload could not be read (cut off, or not a form); nothing was stored.", 400);
  }
  return (
    form
      .getAll("file")
      .filter((v): v is File => v instanceof File)
      // Bun gives a part sent with `filename=""` no name at all.
      .map((f) => ({ name: (f.name as string | undefined) ?? "", data: f }))
      // A form whose file input was left empty sends one nameless, empty part: no file.
      .filter((f) => f.name !== "" || f.data.size > 0)
      // Browsers send a quote in a file name as %22 (HTML's form encoding; a % itself is sent
      // as it is, so this one decoding is a guess, right for names with quotes, the common case).
      .map((f) => ({ ...f, name: f.name.replaceAll("%22", '"') }))
  );
}
