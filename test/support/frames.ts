/**
 * Rebuilds an answer's HTML as htmx would from what a tab got: `base` is the fragment that showed
 * the answer whole (a snapshot, or the empty answer of a new exchange), `frames` what came after.
 * `appended` counts the frames that grew the tail in place.
 */
export function rebuildAnswer(id: string, base: string, frames: string[]): { html: string; appended: number } {
  const blocks = [new RegExp(`<div id="msg-${id}-blocks">([\\s\\S]*?)</div><div id="msg-${id}-tail">`).exec(base)![1]!];
  // An answer being written has a place for its images after its words (empty until one arrives).
  let tail = new RegExp(
    `<div id="msg-${id}-tail">([\\s\\S]*?)</div></div>(?:<div id="msg-${id}-images"[^>]*>[\\s\\S]*?</div>)?<footer`,
  ).exec(base)![1]!;
  let appended = 0;
  for (const frame of frames) {
    const added = new RegExp(
      `<div id="msg-${id}-blocks" hx-swap-oob="beforeend">([\\s\\S]*?)</div><div id="msg-${id}-tail"`,
    ).exec(frame);
    if (added) blocks.push(added[1]!);
    const replaced = new RegExp(`<div id="msg-${id}-tail" hx-swap-oob="true">([\\s\\S]*?)</div>$`).exec(frame);
    if (replaced) tail = replaced[1]!;
    // Grown text goes inside the innermost element still open: before the tail's last `depth` closing tags.
    const grown = new RegExp(`<div hx-swap-oob="beforeend:#msg-${id}-tail((?: > :last-child)+)">([^<]*)</div>$`).exec(
      frame,
    );
    if (grown) {
      const depth = grown[1]!.split(":last-child").length - 1;
      const at = [...tail.matchAll(/<\/[a-z][a-z0-9]*>\s*/g)].at(-depth)!.index!;
      tail = tail.slice(0, at) + grown[2]! + tail.slice(at);
      appended++;
    }
  }
  return { html: blocks.join("") + tail, appended };
}

/** The body of a finished answer's article, as its final render. */
export function finalAnswerHtml(article: string): string {
  return /<div data-body class="markdown min-w-0 break-words">([\s\S]*?)<\/div><footer/.exec(article)![1]!;
}
