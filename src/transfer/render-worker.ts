/**
 * The worker thread that renders an import's answers (see renderer.ts). Its own copy of the
 * renderer, so the HTML is what an answer's end stores. A separate entry point of the binary
 * (package.json's build lists it).
 */
import { renderMarkdown } from "../chat/markdown.ts";
import { answerCalls } from "../worker-calls.ts";
import type { RenderRequest, RenderResult } from "./renderer.ts";

declare const self: Worker;

answerCalls<RenderRequest, RenderResult>(self, (texts) => texts.map((text) => renderMarkdown(text)));
