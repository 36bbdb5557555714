import type { FileInfo } from "../../src/files/types.ts";
import { fileSize } from "../../src/limits.ts";

/**
 * A sent message's files: images as thumbnails that open the full image, other files as links
 * that download them. Each is served at `<filesAt>/<id>`: by default /files/<id>, to its owner
 * alone; a shared snapshot passes its own address.
 */
export function MessageAttachments({
  files,
  filesAt = "/files",
}: {
  files: FileInfo[];
  filesAt?: string;
}): JSX.Element {
  if (!files.length) return "";
  return (
    <ul data-attachments class="mb-1 flex flex-wrap justify-end gap-2" aria-label="Attachments">
      {files.map((file) =>
        file.type.startsWith("image/") ? (
          <li>
            <a href={`${filesAt}/${file.id}`} target="_blank" rel="noopener" class="block" title={file.name}>
              <img
                src={`${filesAt}/${file.id}`}
                alt={file.name}
                loading="lazy"
                class="h-28 max-w-56 rounded-xl border border-zinc-200 object-cover dark:border-zinc-700"
              />
            </a>
          </li>
        ) : (
          <li>
            <a
              href={`${filesAt}/${file.id}`}
              download={file.name}
              class="flex max-w-64 items-center gap-2 rounded-xl border border-zinc-200 bg-white px-3 py-2 text-sm hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800"
            >
              <span aria-hidden="true" class="font-mono text-xs text-zinc-500 dark:text-zinc-400">
                {file.type === "application/pdf" ? "PDF" : "TXT"}
              </span>
              <span class="min-w-0 truncate" safe>
                {file.name}
              </span>
              <span class="shrink-0 text-xs text-zinc-500 dark:text-zinc-400" safe>
                {fileSize(file.size)}
              </span>
            </a>
          </li>
        ),
      )}
    </ul>
  );
}

/**
 * An answer's images, under its words, each opening the full image. While the answer is written
 * the place is there even empty: each image kept replaces it, in every tab.
 */
export function AnswerImages({
  messageId,
  files,
  oob,
}: {
  messageId: string;
  files: FileInfo[];
  oob?: boolean;
}): JSX.Element {
  const images = files.filter((file) => file.type.startsWith("image/"));
  return (
    <div
      id={`msg-${messageId}-images`}
      hx-swap-oob={oob ? "true" : undefined}
      data-answer-images
      class="flex flex-wrap gap-2 empty:hidden"
    >
      {images.map((file, i) => (
        <a href={`/files/${file.id}`} target="_blank" rel="noopener" class="block" title={file.name}>
          <img
            src={`/files/${file.id}`}
            alt={`Made by the model (${i + 1} of ${images.length})`}
            loading="lazy"
            class="my-2 max-h-[32rem] max-w-full rounded-xl border border-zinc-200 dark:border-zinc-700"
          />
        </a>
      ))}
    </div>
  );
}
