/**
 * A stand-in for OpenRouter that speaks its wire format: `POST /chat/completions` streaming SSE
 * (`data:` chunks, `: OPENROUTER PROCESSING` comments, a final usage chunk, `data: [DONE]`),
 * non-streaming completions, `GET /models`, and `{error:{code,message,metadata}}` bodies. Each
 * request can be scripted: delay the first token, pace tokens, fail with a status, fail or stall
 * mid-stream, drop the connection, send images as an image-output model does (`delta.images`).
 * PDFs (`file` parts) are "parsed" as OpenRouter's file-parser does unless its engine is "native":
 * the answer carries `delta.annotations` of type "file" for each PDF whose parse was not sent back
 * on an assistant message of the request. It records requests, which PDFs each had to parse, and
 * client disconnects.
 *
 * Run it alone with `bun run fake-upstream` and point OPENROUTER_BASE_URL at it to try Parley
 * offline.
 */

export type ContentPart =
  | { type: "text"; text: string }
  | { type: "image_url"; image_url: { url: string } }
  | { type: "file"; file: { filename: string; file_data: string } };

export type Script = {
  /** The answer; by default derived from the last user message. */
  text?: string;
  /**
   * Reasoning streamed before the answer as OpenRouter streams it: `delta.reasoning` with the same
   * text in `delta.reasoning_details` (`[{type: "reasoning.text", text, format, index}]`).
   */
  reasoning?: string;
  /** Reasoning in `delta.reasoning_details` alone, as `reasoning.summary` entries (some providers' way). */
  reasoningDetailsOnly?: boolean;
  /** Characters per token. */
  tokenSize?: number;
  /** Milliseconds between tokens. */
  tokenDelayMs?: number;
  /** Before the first token; the stream sends `: OPENROUTER PROCESSING` every 200 ms meanwhile. */
  firstTokenDelayMs?: number;
  /** Answer with this HTTP status and an OpenRouter error body instead of streaming. */
  status?: number;
  errorMessage?: string;
  /** OpenRouter's error metadata, e.g. `{ reasons: [...] }` for moderation. */
  errorMetadata?: Record<string, unknown>;
  retryAfter?: string;
  /** After this many tokens: send an error chunk (finish_reason "error") and end. */
  errorAfterTokens?: number;
  /** After this many tokens (and any reasoning): send nothing more, keeping the connection open. */
  stallAfterTokens?: number;
  /** With stallAfterTokens: go on once this settles (a test holds the answer where it can look at it). */
  resume?: Promise<unknown>;
  /** After this many tokens: destroy the connection without [DONE]. */
  dropAfterTokens?: number;
  finishReason?: "stop" | "length" | "content_filter";
  /** The usage the last chunk reports, in place of 12 prompt tokens (4 of them cached) costing $0.000123. */
  usage?: { promptTokens: number; cachedTokens: number; cost: number };
  /**
   * Images in the answer, each in a chunk of its own as OpenRouter streams them:
   * `delta.images: [{type: "image_url", image_url: {url: "data:image/png;base64,..."}, index}]`.
   * An entry of base64 alone is a PNG's, sent as its data URL; any other entry (a whole `data:`
   * URL, a malformed one, one that is not a string) is sent as it is.
   */
  images?: unknown[];
  /** Before which token the images are sent; after the text by default. */
  imagesAtToken?: number;
  /**
   * What a web search "found", sent as OpenRouter sends it when the request asks for web search
   * (its `openrouter:web_search` tool or `web` plugin): each entry as the `url_citation` of a
   * `delta.annotations` entry, after the text. Anything else (a non-object) is sent as it is.
   * Without it, a request that asks for web search gets two citations named after the question.
   */
  citations?: unknown[];
  /**
   * Tool calls the model makes after its text, as OpenAI streams them (`delta.tool_calls`: the
   * id and name first, then the arguments in pieces), ending with finish_reason "tool_calls".
   * Without `text`, an answer to a request whose last message is a tool result says what it got.
   */
  toolCalls?: { name: string; arguments: string; id?: string }[];
  /**
   * An answer of this many tokens, each "w<microseconds since the epoch> " stamped as it is sent:
   * the load benchmark reads the stamps off the frames it receives to time them.
   */
  stampedTokens?: number;
  /** Stamped tokens laid out as Markdown: headings, paragraphs, a list, a code block, bold (bench/realistic.ts). */
  stampedMarkdown?: boolean;
  /** Changes to the script for a request, by the last message the person sent: answers of different lengths and paces. */
  perRequest?: (asked: string) => Script;
};

/**
 * The i-th of an answer's stamped tokens with Markdown around it, in a cycle of 100: a heading,
 * a paragraph, a list, a TypeScript code block, a paragraph with bold words.
 */
export function markdownToken(i: number, stamp: string): string {
  const k = i % 100;
  if (k === 0) return `${i ? "\n\n" : ""}## Part ${i / 100 + 1}\n\n${stamp} `;
  if (k === 35) return `\n\n- ${stamp} `;
  if (k > 35 && k < 55) return k % 5 === 0 ? `\n- ${stamp} ` : `${stamp} `;
  if (k === 55) return `\n\n\`\`\`ts\nconst ${stamp} = [`;
  if (k > 55 && k < 80) return k % 6 === 0 ? `\n  ${stamp}, ` : `${stamp}, `;
  if (k === 80) return `${stamp}];\n\`\`\`\n\n`;
  if (k % 9 === 0) return `**${stamp}** `;
  return k % 12 === 0 ? `${stamp}. ` : `${stamp} `;
}

/** What OpenRouter's file-parser returns for a PDF it read (its PDF guide's "File Annotations Schema"). */
export type FileAnnotation = {
  type: "file";
  file: {
    hash: string;
    name?: string;
    content: ({ type: "text"; text: string } | { type: "image_url"; image_url: { url: string } })[];
  };
};

/** The fake's parse of a PDF part: a hash of its data, and a line of "text" naming the file and engine. */
export function fakeParse(part: Extract<ContentPart, { type: "file" }>, engine: string): FileAnnotation {
  const hash = new Bun.CryptoHasher("sha256").update(part.file.file_data).digest("hex");
  return {
    type: "file",
    file: {
      hash,
      name: part.file.filename,
      content: [
        { type: "text", text: `<file name="${part.file.filename}">` },
        { type: "text", text: `Text of ${part.file.filename}, read by ${engine}.` },
      ],
    },
  };
}

/** Microseconds since the epoch, comparable between processes on one machine. */
export const nowMicros = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

/** A message's text: itself, or its text parts joined. */
const textOf = (content: string | ContentPart[]) =>
  typeof content === "string" ? content : content.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");

export type RecordedRequest = {
  body: {
    model: string;
    /** Text, or OpenRouter's content parts (text, image_url, file). */
    messages: { role: string; content: string | ContentPart[]; annotations?: FileAnnotation[] }[];
    stream?: boolean;
    [k: string]: unknown;
  };
  headers: Record<string, string>;
  /** When it arrived (nowMicros). */
  receivedAt: number;
  /** The answer text sent so far. */
  sent: string;
  /** The PDFs (by file name) this request had parsed: those no annotation sent back covered. */
  parsed: string[];
  /** Resolves when the client closed the connection before the answer ended. */
  disconnected: Promise<void>;
  wasDisconnected: boolean;
};

/** A model as OpenRouter's `GET /models` lists it (the fields Parley reads). */
export type FakeModel = {
  id: string;
  name: string;
  context_length: number;
  pricing: { prompt: string; completion: string };
  supported_parameters: string[];
  architecture?: { modality: string; input_modalities: string[]; output_modalities: string[]; tokenizer: string };
};

export const FAKE_MODELS: FakeModel[] = [
  {
    id: "fake/fast",
    name: "Fake Fast",
    context_length: 32768,
    pricing: { prompt: "0.0000001", completion: "0.0000002" },
    supported_parameters: ["max_tokens", "temperature", "top_p", "stop"],
  },
  {
    id: "fake/smart",
    name: "Fake Smart",
    context_length: 200000,
    pricing: { prompt: "0.000003", completion: "0.000015" },
    // A reasoning model that, like some real ones, takes no temperature.
    supported_parameters: ["include_reasoning", "max_tokens", "reasoning"],
  },
];

/** A model that reads these kinds of input (OpenRouter's input_modalities: "text", "image", "file") and writes text. */
export const fakeReader = (id: string, name: string, inputs: string[]): FakeModel => ({
  id,
  name,
  context_length: 128000,
  pricing: { prompt: "0.000001", completion: "0.000002" },
  supported_parameters: ["max_tokens"],
  architecture: {
    modality: `${inputs.join("+")}->text`,
    input_modalities: inputs,
    output_modalities: ["text"],
    tokenizer: "Other",
  },
});

/** A model that calls tools ("tools" among its supported parameters); not listed unless a test adds it. */
export const FAKE_CALLER: FakeModel = {
  ...FAKE_MODELS[0]!,
  id: "fake/caller",
  name: "Fake Caller",
  supported_parameters: ["max_tokens", "tools", "tool_choice"],
};

/** A model that writes text and images (output_modalities with "image"), as OpenRouter lists one; not listed unless a test adds it. */
export const FAKE_PAINTER: FakeModel = {
  id: "fake/painter",
  name: "Fake Painter",
  context_length: 32768,
  pricing: { prompt: "0.000001", completion: "0.00003" },
  supported_parameters: ["max_tokens"],
  architecture: {
    modality: "text+image->text+image",
    input_modalities: ["text", "image"],
    output_modalities: ["image", "text"],
    tokenizer: "Other",
  },
};

/**
 * A list like OpenRouter's: FAKE_MODELS, then `count` more made up from real providers' naming
 * (providers, families, sizes, variants), with their spread of contexts, prices, image and file
 * input, reasoning and free variants. The same list every time. Not listed unless a test passes it.
 */
export function fakeCatalog(count = 320): FakeModel[] {
  const providers: [string, string, string[]][] = [
    ["openai", "OpenAI", ["GPT-5", "GPT-4.1", "GPT-4o", "o4", "o3"]],
    ["anthropic", "Anthropic", ["Claude Opus 4", "Claude Sonnet 4.5", "Claude Haiku 4.5"]],
    ["google", "Google", ["Gemini 2.5 Pro", "Gemini 2.5 Flash", "Gemma 3"]],
    ["meta-llama", "Meta", ["Llama 4 Maverick", "Llama 4 Scout", "Llama 3.3"]],
    ["mistralai", "Mistral", ["Mistral Large", "Mistral Medium", "Codestral", "Pixtral", "Ministral"]],
    ["qwen", "Qwen", ["Qwen3", "Qwen3 Coder", "QwQ", "Qwen2.5 VL"]],
    ["deepseek", "DeepSeek", ["DeepSeek V3.2", "DeepSeek R1", "DeepSeek Prover"]],
    ["x-ai", "xAI", ["Grok 4", "Grok 3 Mini", "Grok Code Fast"]],
    ["cohere", "Cohere", ["Command A", "Command R+"]],
    ["microsoft", "Microsoft", ["Phi-4", "Phi-4 Multimodal"]],
    ["nvidia", "NVIDIA", ["Nemotron Ultra", "Nemotron Nano"]],
    ["amazon", "Amazon", ["Nova Pro", "Nova Lite", "Nova Micro"]],
    ["moonshotai", "MoonshotAI", ["Kimi K2"]],
    ["z-ai", "Z.AI", ["GLM 4.6", "GLM 4.5 Air"]],
    ["perplexity", "Perplexity", ["Sonar", "Sonar Reasoning Pro"]],
  ];
  const sizes = ["", " 8B", " 70B", " Mini", " Nano", " Turbo"];
  const variants = ["", " (thinking)", " Preview", " (free)", " Instruct", " Vision"];
  const contexts = [8192, 32768, 65536, 128000, 131072, 200000, 262144, 1000000, 1048576];
  const out: FakeModel[] = [...FAKE_MODELS];
  const seen = new Set(out.map((m) => m.id));
  for (let i = 0; out.length < FAKE_MODELS.length + count; i++) {
    const [slug, label, families] = providers[i % providers.length]!;
    const family = families[Math.floor(i / providers.length) % families.length]!;
    const size = sizes[Math.floor(i / 7) % sizes.length]!;
    const variant = variants[Math.floor(i / 11) % variants.length]!;
    const name = `${label}: ${family}${size}${variant}`;
    const id = `${slug}/${`${family}${size}${variant}`
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, "-")
      .replace(/^-|-$/g, "")}${variant === " (free)" ? ":free" : ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const free = variant === " (free)";
    const prompt = free ? 0 : [0.05, 0.1, 0.15, 0.4, 1.25, 3, 15][i % 7]!;
    const reasons = variant === " (thinking)" || /^(o3|o4|QwQ|DeepSeek R1|Grok 4)/.test(family) || i % 5 === 0;
    const inputs = [
      "text",
      ...(i % 3 === 0 || variant === " Vision" ? ["image"] : []),
      ...(i % 4 === 0 ? ["file"] : []),
    ];
    out.push({
      id,
      name,
      context_length: contexts[(i * 7) % contexts.length]!,
      pricing: { prompt: (prompt / 1e6).toString(), completion: ((prompt * 4) / 1e6).toString() },
      supported_parameters: ["max_tokens", "temperature", ...(reasons ? ["reasoning", "include_reasoning"] : [])],
      architecture: {
        modality: `${inputs.join("+")}->text`,
        input_modalities: inputs,
        output_modalities: ["text"],
        tokenizer: "Other",
      },
    });
  }
  return out;
}

/** The default answer: Markdown with a highlighted code block, so rendering shows. */
export function defaultAnswer(userText: string): string {
  const said = userText.slice(0, 200);
  return [
    `You said: **${said}**`,
    "",
    "Here is a list:",
    "",
    "- first point",
    "- second point",
    "",
    "```js",
    "const answer = 42;",
    "console.log(answer);",
    "```",
    "",
    "That is all.",
  ].join("\n");
}

/** What the fake answers to a title request: the first two words of the conversation. */
export function fakeTitle(prompt: string): string {
  return `About ${prompt.split(/\s+/).slice(0, 2).join(" ")}`;
}

const encoder = new TextEncoder();

export type FakeUpstream = {
  url: string;
  requests: RecordedRequest[];
  /** Scripts for the next requests, used in order; then the default answer. */
  queue(...scripts: Script[]): void;
  /** Used for every request while no queued script is left. */
  setDefault(script: Script): void;
  stop(): Promise<void>;
};

/** The environment that points a Parley at this fake, with a key and its fast model by default. */
export function fakeEnv(fake: FakeUpstream, extra: Record<string, string> = {}): Record<string, string> {
  return { OPENROUTER_BASE_URL: fake.url, OPENROUTER_API_KEY: "sk-test", DEFAULT_MODEL: "fake/fast", ...extra };
}

export type FakeOptions = {
  port?: number;
  defaults?: Script;
  /** What `GET /models` lists; FAKE_MODELS unless given. */
  models?: FakeModel[];
  /** The answer to a non-streaming request (a title) from its last user message; fakeTitle unless given. */
  title?: (prompt: string) => string;
};

export function startFakeUpstream(opts: FakeOptions = {}): FakeUpstream {
  const queued: Script[] = [];
  let defaults: Script = opts.defaults ?? {};
  const requests: RecordedRequest[] = [];

  const server = Bun.serve({
    port: opts.port ?? 0,
    hostname: "127.0.0.1",
    idleTimeout: 0,
    // A stream failed on purpose (dropAfterTokens) lands here; it is not worth a stack trace.
    error: () => new Response(null, { status: 500 }),
    async fetch(req) {
      const url = new URL(req.url);
      const path = url.pathname.replace(/^\/api\/v1/, "").replace(/^\/v1/, "");
      if (req.method === "GET" && path === "/models") return Response.json({ data: opts.models ?? FAKE_MODELS });
      if (req.method !== "POST" || path !== "/chat/completions") {
        return Response.json({ error: { code: 404, message: "Not found" } }, { status: 404 });
      }
      const body = (await req.json()) as RecordedRequest["body"];
      let markDisconnected = () => {};
      const record: RecordedRequest = {
        body,
        headers: req.headers.toJSON(),
        receivedAt: nowMicros(),
        sent: "",
        parsed: [],
        disconnected: new Promise<void>((r) => {
          markDisconnected = r;
        }),
        wasDisconnected: false,
      };
      requests.push(record);
      const base: Script = body.stream ? { ...defaults, ...(queued.shift() ?? {}) } : {};
      const lastUser = textOf([...body.messages].reverse().find((m) => m.role === "user")?.content ?? "");
      const script = base.perRequest ? { ...base, ...base.perRequest(lastUser) } : base;
      if (script.status) {
        if (script.firstTokenDelayMs) await Bun.sleep(script.firstTokenDelayMs);
        const headers: Record<string, string> = {};
        if (script.retryAfter) headers["retry-after"] = script.retryAfter;
        return Response.json(
          {
            error: {
              code: script.status,
              message: script.errorMessage ?? `Fake error ${script.status}`,
              metadata: script.errorMetadata ?? {},
            },
          },
          { status: script.status, headers },
        );
      }
      // The file-parser: every PDF not covered by a parse sent back is read now (and paid for),
      // unless the engine is "native" (the model reads it; OpenRouter makes no annotation).
      const plugins = Array.isArray(body.plugins) ? (body.plugins as { id?: string; pdf?: { engine?: string } }[]) : [];
      const engine = plugins.find((p) => p.id === "file-parser")?.pdf?.engine ?? "default";
      const reused = new Set(body.messages.flatMap((m) => (m.annotations ?? []).map((a) => a.file.hash)));
      const parses = body.messages
        .flatMap((m) => (typeof m.content === "string" ? [] : m.content))
        .flatMap((p) => (p.type === "file" && engine !== "native" ? [fakeParse(p, engine)] : []))
        .filter((a) => !reused.has(a.file.hash));
      record.parsed = parses.map((a) => a.file.name!);
      // Web search: OpenRouter's server tool (a model that calls tools) or its older plugin.
      const tools = Array.isArray(body.tools)
        ? (body.tools as { type?: string; parameters?: { max_results?: number } }[])
        : [];
      const searchTool = tools.find((t) => t.type === "openrouter:web_search");
      const webPlugin = plugins.find((p) => p.id === "web") as { max_results?: number } | undefined;
      const searched =
        searchTool || webPlugin ? (searchTool?.parameters?.max_results ?? webPlugin?.max_results ?? 5) : 0;
      const last = body.messages.at(-1);
      const toolSaid = last?.role === "tool" ? `The tool said: ${textOf(last.content).slice(0, 200)}` : undefined;
      const text =
        script.text ??
        (script.toolCalls ? "" : undefined) ??
        toolSaid ??
        (body.stream ? defaultAnswer(lastUser) : (opts.title ?? fakeTitle)(lastUser));
      const id = `gen-${crypto.randomUUID()}`;
      const created = Math.floor(Date.now() / 1000);
      if (!body.stream) {
        // Non-streaming requests (titles) do not take queued scripts meant for answers.
        return Response.json({
          id,
          object: "chat.completion",
          created,
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
          usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, cost: 0.00001 },
        });
      }
      const size = script.tokenSize ?? 4;
      const split = (t: string) => {
        const parts: string[] = [];
        for (let i = 0; i < t.length; i += size) parts.push(t.slice(i, i + size));
        return parts;
      };
      const tokens = script.stampedTokens ? Array.from({ length: script.stampedTokens }, () => "") : split(text);
      const thoughts = split(script.reasoning ?? "");
      const chunk = (delta: object, finish: string | null = null, extra: object = {}) =>
        `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;

      const images = (script.images ?? []).map((image, index) => ({
        type: "image_url",
        image_url: {
          url: typeof image === "string" && /^[A-Za-z0-9+/]+=*$/.test(image) ? `data:image/png;base64,${image}` : image,
        },
        index,
      }));
      const imagesAt = Math.min(script.imagesAtToken ?? tokens.length, tokens.length);

      let closed = false;
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = (s: string) => {
            if (!closed) controller.enqueue(encoder.encode(s));
          };
          send(": OPENROUTER PROCESSING\n\n");
          for (let waited = 0; waited < (script.firstTokenDelayMs ?? 0); waited += 200) {
            await Bun.sleep(Math.min(200, (script.firstTokenDelayMs ?? 0) - waited));
            send(": OPENROUTER PROCESSING\n\n");
          }
          send(chunk({ role: "assistant", content: "" }));
          for (const thought of thoughts) {
            if (closed) return;
            const details = script.reasoningDetailsOnly
              ? { reasoning_details: [{ type: "reasoning.summary", summary: thought, format: "unknown", index: 0 }] }
              : {
                  reasoning: thought,
                  reasoning_details: [{ type: "reasoning.text", text: thought, format: "unknown", index: 0 }],
                };
            send(chunk({ ...details, content: "" }));
            if (script.tokenDelayMs) await Bun.sleep(script.tokenDelayMs);
          }
          const sendImages = () => {
            for (const image of images) send(chunk({ role: "assistant", content: "", images: [image] }));
          };
          for (let i = 0; i < tokens.length; i++) {
            if (closed) return;
            if (i === imagesAt) sendImages();
            if (script.errorAfterTokens === i) {
              send(
                `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, error: { code: 502, message: script.errorMessage ?? "Provider returned error" }, choices: [{ index: 0, delta: { content: "" }, finish_reason: "error" }] })}\n\n`,
              );
              controller.close();
              closed = true;
              return;
            }
            if (script.stallAfterTokens === i) {
              if (!script.resume) return; // keep the connection open, silent
              await script.resume;
            }
            if (script.dropAfterTokens === i) {
              await Bun.sleep(50); // let what was sent reach the client first
              controller.error(new Error("connection dropped by the fake upstream, as asked"));
              closed = true;
              return;
            }
            const stamp = `w${nowMicros()}`;
            const token = !script.stampedTokens
              ? tokens[i]!
              : script.stampedMarkdown
                ? markdownToken(i, stamp)
                : `${stamp} `;
            record.sent += token;
            send(chunk({ content: token }));
            if (script.tokenDelayMs) await Bun.sleep(script.tokenDelayMs);
            if (i % 20 === 19) send(": OPENROUTER PROCESSING\n\n");
          }
          if (imagesAt === tokens.length) sendImages();
          if (parses.length) send(chunk({ role: "assistant", content: "", annotations: parses }));
          if (searched) {
            const topic = lastUser.slice(0, 40) || "the question";
            const found = script.citations ?? [
              { url: "https://example.com/one", title: `One page about ${topic}`, content: "The first result." },
              { url: "https://example.org/two", title: `Another page about ${topic}`, content: "The second result." },
            ];
            const annotations = found.map((c, i) =>
              typeof c === "object" && c !== null
                ? { type: "url_citation", url_citation: { start_index: 0, end_index: i, ...c } }
                : c,
            );
            send(chunk({ role: "assistant", content: "", annotations }));
          }
          for (const [index, call] of (script.toolCalls ?? []).entries()) {
            const callId = call.id ?? `call_${crypto.randomUUID().slice(0, 8)}`;
            send(
              chunk({
                tool_calls: [{ index, id: callId, type: "function", function: { name: call.name, arguments: "" } }],
              }),
            );
            for (let i = 0; i < call.arguments.length; i += 8)
              send(chunk({ tool_calls: [{ index, function: { arguments: call.arguments.slice(i, i + 8) } }] }));
          }
          send(chunk({}, script.toolCalls?.length ? "tool_calls" : (script.finishReason ?? "stop")));
          const { promptTokens, cachedTokens, cost } = script.usage ?? {
            promptTokens: 12,
            cachedTokens: 4,
            // A web search is charged in the answer's cost, as OpenRouter does: $0.004 per result.
            cost: 0.000123 + searched * 0.004,
          };
          const completionTokens = tokens.length + thoughts.length;
          send(
            `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: body.model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, cost, completion_tokens_details: { reasoning_tokens: thoughts.length }, prompt_tokens_details: { cached_tokens: cachedTokens } } })}\n\n`,
          );
          send("data: [DONE]\n\n");
          closed = true;
          controller.close();
        },
        cancel() {
          closed = true;
          record.wasDisconnected = true;
          markDisconnected();
        },
      });
      req.signal.addEventListener("abort", () => {
        if (!closed) {
          closed = true;
          record.wasDisconnected = true;
          markDisconnected();
        }
      });
      return new Response(stream, {
        headers: { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" },
      });
    },
  });

  return {
    url: `http://127.0.0.1:${server.port}/api/v1`,
    requests,
    queue: (...scripts) => queued.push(...scripts),
    setDefault: (script) => {
      defaults = script;
    },
    stop: async () => {
      await server.stop(true);
    },
  };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 8787);
  const fake = startFakeUpstream({ port, defaults: { tokenDelayMs: Number(process.env.TOKEN_DELAY_MS ?? 30) } });
  console.log(`fake OpenRouter at ${fake.url} (OPENROUTER_BASE_URL=${fake.url} OPENROUTER_API_KEY=anything)`);
}
