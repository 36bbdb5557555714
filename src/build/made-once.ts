/**
 * A build output made again only when what it depends on changes: `key` names that, and is kept
 * in `keyPath` beside the outputs once `make` wrote them.
 */
export async function unlessCurrent(
  keyPath: string,
  key: string,
  outputs: string[],
  make: () => Promise<void>,
): Promise<"made" | "current"> {
  const kept = Bun.file(keyPath);
  const present = await Promise.all(outputs.map((path) => Bun.file(path).exists()));
  if ((await kept.exists()) && (await kept.text()) === key && present.every(Boolean)) return "current";
  await make();
  await Bun.write(keyPath, key);
  return "made";
}
