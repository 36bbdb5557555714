import { fileSize } from "../../src/limits.ts";

/** How much of their file storage a person uses (the account page's Files section). */
export function StorageUse({ used, limit }: { used: number; limit: number }): JSX.Element {
  const percent = limit > 0 ? Math.min(100, Math.round((used / limit) * 100)) : 0;
  return (
    <div id="storage-use" class="flex flex-col gap-2 text-sm">
      <p>
        Your files take <strong>{fileSize(used)}</strong> of the <strong>{fileSize(limit)}</strong> you may keep (
        {String(percent)}%). Deleting a chat deletes its files.
      </p>
      <meter
        min="0"
        max={String(limit)}
        value={String(used)}
        high={String(Math.floor(limit * 0.9))}
        class="h-2 w-full"
        aria-label="File storage used"
      ></meter>
    </div>
  );
}
