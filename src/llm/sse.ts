import type OpenAI from "openai";
import { APIError } from "openai";

type Chunk = OpenAI.Chat.Completions.ChatCompletionChunk;

/**
 * The chunks of a streamed chat completion, read from the raw response the SDK hands back
 * (`.asResponse()`): the SDK still builds the request and turns HTTP errors into its errors, but
 * its stream decoder looks for line ends one byte at a time, and with 1,000 answers streaming that
 * cost more than everything Parley does with the text. Same rules as the SDK's decoder: comments
 * (`: OPENROUTER PROCESSING`) are skipped, `data:` lines of one event are joined, `[DONE]` ends the
 * answer, and an event carrying `error` throws the SDK's APIError.
 */
export async function* completionChunks(response: Response): AsyncGenerator<Chunk> {
  if (!response.body) return;
  const decoder = new TextDecoder();
  let buffered = "";
  let done = false;
  const parse = (event: string): Chunk | undefined => {
    const data = eventData(event);
    if (data === undefined || done) return undefined;
    // Read on to the end after [DONE], so the connection goes back to the pool rather than closed.
    if (data.startsWith("[DONE]")) {
      done = true;
      return undefined;
    }
    const chunk = JSON.parse(data);
    if (chunk?.error) throw new APIError(undefined, chunk.error, undefined, response.headers);
    return chunk as Chunk;
  };
  for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(bytes, { stream: true });
    if (buffered.includes("\r")) buffered = buffered.replace(/\r\n?/g, "\n");
    let start = 0;
    for (let end = buffered.indexOf("\n\n"); end >= 0; end = buffered.indexOf("\n\n", start)) {
      const chunk = parse(buffered.slice(start, end));
      start = end + 2;
      if (chunk) yield chunk;
    }
    buffered = buffered.slice(start);
  }
  // An event cut off by the end of the body, without its blank line, still counts (as in the SDK).
  const last = parse(buffered.trim());
  if (last) yield last;
}

/** The data of one event (its `data:` lines joined), or undefined when it has none. */
function eventData(event: string): string | undefined {
  // The common case by far: one data line.
  if (event.startsWith("data:") && !event.includes("\n")) return stripSpace(event.slice(5));
  let data: string | undefined;
  for (const line of event.split("\n")) {
    if (!line.startsWith("data:")) continue; // comments, event:, id:, retry:
    data = data === undefined ? stripSpace(line.slice(5)) : `${data}\n${stripSpace(line.slice(5))}`;
  }
  return data;
}

/** SSE drops one space after the colon. */
function stripSpace(value: string): string {
  return value.startsWith(" ") ? value.slice(1) : value;
}
