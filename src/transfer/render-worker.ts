/**
 * The worker thread that renders an import's answers (see renderer.ts). Its own copy of the
 * renderer, so the HTML is what an answer's end stores. A separate entry point of the binary
 * (package.json's build lists it).
 */
import { renderMarkdown } from "../chat/markdown.ts";
import type { RenderReply, RenderRequest } from "./renderer.ts";

declare const self: Worker;

self.onmessage = (event: MessageEvent<RenderRequest>) => {
  const { id, texts } = event.data;
  let reply: RenderReply;
  try {
    reply = { id, html: texts.map((text) => renderMarkdown(text)) };
  } catch (err) {
    reply = { id, error: String((err as Error)?.message ?? err) };
  }
  self.postMessage(reply);
};
