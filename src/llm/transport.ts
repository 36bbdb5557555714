import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";

// Keep-alive: every answer is one request, and a new TLS handshake per answer costs a round trip.
const agents: Record<string, http.Agent> = {
  "http:": new http.Agent({ keepAlive: true }),
  "https:": new https.Agent({ keepAlive: true }),
};

const NULL_BODY = new Set([101, 204, 205, 304]);

/** Whether the environment names a proxy: only Bun's fetch honours HTTP(S)_PROXY and NO_PROXY. */
export function proxyConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy);
}

/**
 * fetch() for the upstream, calling `onBytes` whenever bytes arrive (the stall timer's signal).
 *
 * Bun's fetch runs at most 256 requests at once per process (BUN_CONFIG_MAX_HTTP_REQUESTS, read
 * only at start-up, so the binary cannot raise it for itself): answer 257 would wait, unseen,
 * until another ended. Bun's node:http client has no such cap. Measured on our 2-core machines:
 * 600 requests of 1 s took 3.0 s through fetch, 1.1 s through node:http; 1,000 SSE streams of
 * 200 chunks cost the same CPU either way. Behind a proxy, fetch is used (with its cap).
 */
export function upstreamFetch(
  input: string | URL | Request,
  init: RequestInit = {},
  onBytes: () => void = () => {},
): Promise<Response> {
  if (proxyConfigured()) return tappedFetch(input, init, onBytes);
  const url = new URL(input instanceof Request ? input.url : input);
  const body = init.body;
  if (body != null && typeof body !== "string" && !(body instanceof Uint8Array)) {
    throw new TypeError("upstreamFetch sends string or byte bodies only");
  }
  return new Promise((resolve, reject) => {
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    const client = url.protocol === "https:" ? https : http;
    const req = client.request(
      url,
      {
        method: init.method ?? "GET",
        headers: headerRecord(init.headers),
        agent: agents[url.protocol],
        signal,
      },
      (res) => {
        onBytes();
        res.on("data", onBytes);
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const one of [value ?? []].flat()) headers.append(name, one);
        }
        const status = res.statusCode ?? 502;
        const stream = NULL_BODY.has(status) ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, statusText: res.statusMessage, headers }));
      },
    );
    req.on("error", reject);
    req.end(body ?? undefined);
  });
}

function headerRecord(init: HeadersInit | undefined): Record<string, string> {
  const record: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    record[name] = value;
  });
  return record;
}

async function tappedFetch(input: string | URL | Request, init: RequestInit, onBytes: () => void) {
  const res = await fetch(input, init);
  onBytes();
  if (!res.body) return res;
  const tapped = res.body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        onBytes();
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(tapped, { status: res.status, statusText: res.statusText, headers: res.headers });
}
