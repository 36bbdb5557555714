/**
 * Takes the README's screenshots of the real app: the compiled binary (dist/parley) on a fresh
 * embedded database in a temporary folder, answering through the fake OpenRouter, in Chromium.
 * A few earlier chats fill the sidebar; the shown chat has two finished turns and a third answer
 * caught while it streams (the fake sends part of it and then holds the stream open, so every shot
 * shows the same half-written answer).
 *
 * Usage: bun test/screenshots.ts [--out DIR] [--source] [--only desktop-light,phone-dark,...]
 * `npm run screenshots` builds the binary first; --source runs `bun src/cli.ts serve` instead.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { type FakeUpstream, fakeEnv, fakeTitle, type Script, startFakeUpstream } from "./fake-upstream.ts";
import { closeBrowser, launchBrowser, signedInContext } from "./support/browser.ts";
import { postForm } from "./support/http.ts";
import { signInAt, startParley } from "./support/process.ts";

const ROOT = resolve(import.meta.dir, "..");

/** Each shot: its file name (without .png), viewport and colour scheme. */
export const SHOTS = {
  "desktop-light": { viewport: { width: 1280, height: 800 }, scheme: "light" },
  "desktop-dark": { viewport: { width: 1280, height: 800 }, scheme: "dark" },
  "phone-light": { viewport: { width: 390, height: 844 }, scheme: "light" },
  "phone-dark": { viewport: { width: 390, height: 844 }, scheme: "dark" },
} as const;
export type ShotName = keyof typeof SHOTS;
/** Pixels per CSS pixel: sharp on high-density screens. */
export const SCALE = 2;

type Turn = { ask: string; answer: string };
type Story = { title: string; turns: Turn[] };

/** Earlier chats, oldest first: only their titles show, in the sidebar. */
const EARLIER: Story[] = [
  {
    title: "Sourdough starter not rising",
    turns: [
      {
        ask: "My sourdough starter stopped rising after a week in the fridge. Is it dead?",
        answer:
          "Almost certainly not: cold only slows the yeast down. Take it out, discard all but a tablespoon, and feed it equal weights of flour and water twice a day at room temperature. It should double again within two or three days.",
      },
    ],
  },
  {
    title: "Polite reminder for an overdue invoice",
    turns: [
      {
        ask: "Help me write a short, friendly email reminding a client that their invoice is 30 days overdue.",
        answer:
          "Subject: Invoice #1042, a quick reminder\n\nHi Sam,\n\nI hope all is well. A quick note that invoice #1042, sent on 3 March, is now 30 days past due. I've attached it again for convenience. Could you let me know when I can expect payment?\n\nThanks a lot,\nMaya",
      },
    ],
  },
  {
    title: "Relaxed weekend in Lisbon",
    turns: [
      {
        ask: "Plan a relaxed weekend in Lisbon for two. We like food and walking, not museums.",
        answer:
          "**Saturday:** coffee and pastéis de nata in Belém, a walk along the river to LX Factory, and dinner in Alfama with fado.\n\n**Sunday:** the Feira da Ladra flea market, lunch at the Time Out Market, and sunset at the Miradouro da Senhora do Monte.",
      },
    ],
  },
];

/** The chat on screen: two finished turns, then an answer still being written. */
const SHOWN: Story = {
  title: "Totals from a 2 GB CSV",
  turns: [
    {
      ask: "I have a 2 GB CSV of orders and pandas runs out of memory when I load it. What are my options?",
      answer: [
        "A 2 GB CSV can easily take 5–10 GB once pandas has parsed it, so the trick is never to hold all of it at once. Roughly in order of effort:",
        "",
        "1. **Load only what you need.** `usecols=` and explicit `dtype=` (`category` for repeated strings) often halve the memory.",
        "2. **Read it in chunks.** `pd.read_csv(..., chunksize=200_000)` hands you one piece at a time, so memory stays flat.",
        "3. **Let a query engine do it.** DuckDB queries the CSV where it lies, without loading it into Python.",
        "4. **Convert it once to Parquet.** Columnar and compressed: later reads are much faster.",
        "",
        "What do you need to compute? I can sketch the code.",
      ].join("\n"),
    },
    {
      ask: "The total amount per customer. Can you show the chunked version?",
      answer: [
        "Sure. Sum each chunk, then add the partial sums together:",
        "",
        "```python",
        "import pandas as pd",
        "",
        "totals = None",
        "for chunk in pd.read_csv(",
        '    "orders.csv",',
        '    usecols=["customer_id", "amount"],',
        '    dtype={"customer_id": "int64", "amount": "float64"},',
        "    chunksize=200_000,",
        "):",
        '    part = chunk.groupby("customer_id")["amount"].sum()',
        "    totals = part if totals is None else totals.add(part, fill_value=0)",
        "",
        'totals.sort_values(ascending=False).to_csv("totals.csv")',
        "```",
        "",
        "Memory stays at about one chunk plus the running totals, which hold one row per customer.",
      ].join("\n"),
    },
    {
      ask: "Nice. What would the DuckDB version look like, and is it faster?",
      answer: [
        "Shorter, and usually several times faster: DuckDB reads the file on all cores and streams it through the aggregation, so there is no loop to write.",
        "",
        "```python",
        "import duckdb",
        "",
        'duckdb.sql("""',
        "    COPY (",
        "        SELECT customer_id,",
        "               sum(amount) AS total",
        "        FROM 'orders.csv'",
        "        GROUP BY customer_id",
        "        ORDER BY total DESC",
        "    ) TO 'totals.csv' (HEADER)",
        '""")',
        "```",
        "",
        "A few things make the difference. It parses the CSV in parallel, it keeps only one running total per customer rather than whole chunks, and it writes the result without going through pandas at all. If you will query the same data again, convert it once to Parquet and later queries take seconds.",
      ].join("\n"),
    },
  ],
};

/** Where the last answer is held, mid-sentence: it streams up to the end of this text. */
const HELD_AT = "it keeps only one running total per customer";

/** Models as OpenRouter lists them; the first answers. */
const MODELS = [
  {
    id: "google/gemini-2.5-pro",
    name: "Google: Gemini 2.5 Pro",
    context_length: 1048576,
    pricing: { prompt: "0.00000125", completion: "0.00001" },
    supported_parameters: ["include_reasoning", "max_tokens", "reasoning", "temperature", "top_p", "stop"],
  },
  {
    id: "anthropic/claude-sonnet-4.5",
    name: "Anthropic: Claude Sonnet 4.5",
    context_length: 1000000,
    pricing: { prompt: "0.000003", completion: "0.000015" },
    supported_parameters: ["include_reasoning", "max_tokens", "reasoning", "temperature", "top_p", "stop"],
  },
];

/** Roughly what a tokenizer makes of English, and how the fake splits answers: four characters a token. */
const tokens = (text: string) => Math.ceil(text.length / 4);

/** The usage and cost OpenRouter would report for a turn, given the conversation before it. */
function usage(story: Story, turn: number): Script["usage"] {
  const sent = story.turns.slice(0, turn).flatMap((t) => [t.ask, t.answer]);
  const promptTokens = tokens([...sent, story.turns[turn]!.ask].join(""));
  const { prompt, completion } = MODELS[0]!.pricing;
  const cost = promptTokens * Number(prompt) + tokens(story.turns[turn]!.answer) * Number(completion);
  return { promptTokens, cachedTokens: 0, cost };
}

const USER = { username: "maya", password: "a screenshot of a quiet afternoon" };

/**
 * Starts a chat from the composer, as a person would, turn after turn, waiting for each answer
 * (and for the first to give the chat its title). With `hold`, the last answer stops at HELD_AT
 * and stays open.
 */
async function play(page: Page, fake: FakeUpstream, story: Story, hold = false) {
  await page.goto(new URL("/", page.url()).href);
  for (const [i, turn] of story.turns.entries()) {
    const held = hold && i === story.turns.length - 1;
    const shown = turn.answer.slice(0, turn.answer.indexOf(HELD_AT) + HELD_AT.length);
    fake.queue(
      held
        ? { text: turn.answer, tokenDelayMs: 5, stallAfterTokens: tokens(shown) }
        : { text: turn.answer, usage: usage(story, i) },
    );
    await page.getByLabel("Message").fill(turn.ask);
    await page.getByLabel("Message").press("Enter");
    if (i === 0) await page.waitForURL(/\/chats\/[0-9a-f-]+$/);
    const answer = page.locator('article[data-role="assistant"]').nth(i);
    if (held) await answer.locator(".markdown", { hasText: HELD_AT }).waitFor();
    else await answer.and(page.locator('[data-status="complete"]')).waitFor();
    if (i === 0) await page.locator("#chat-nav").getByText(story.title).waitFor();
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: "string", default: join(ROOT, "docs", "screenshots") },
      source: { type: "boolean", default: false },
      only: { type: "string" },
    },
  });
  const names = (values.only?.split(",") ?? Object.keys(SHOTS)) as ShotName[];
  const unknown = names.filter((n) => !(n in SHOTS));
  if (unknown.length) throw new Error(`No such shot: ${unknown.join(", ")} (known: ${Object.keys(SHOTS).join(", ")}).`);
  // startParley runs PARLEY_BIN when set, else the sources.
  if (values.source) delete process.env.PARLEY_BIN;
  else {
    const binary = join(ROOT, "dist", "parley");
    if (!existsSync(binary)) {
      throw new Error("No dist/parley: build it with `npm run build` (or run from the sources with --source).");
    }
    process.env.PARLEY_BIN = binary;
  }
  mkdirSync(values.out, { recursive: true });

  const stories = [...EARLIER, SHOWN];
  const fake = startFakeUpstream({
    models: MODELS,
    title: (prompt) => stories.find((s) => prompt.startsWith(s.turns[0]!.ask))?.title ?? fakeTitle(prompt),
  });
  const home = mkdtempSync(join(tmpdir(), "parley-screenshots-"));
  const started = performance.now();
  const parley = await startParley({
    ...fakeEnv(fake, { DEFAULT_MODEL: MODELS[0]!.id }),
    DATA_DIR: join(home, "data"),
    // The held answer must outlast every shot.
    UPSTREAM_STALL_TIMEOUT_MS: "600000",
  });
  try {
    const setup = await postForm(parley.url, "/setup", USER);
    if (setup.status !== 303) throw new Error(`creating the first account failed (${setup.status})`);
    const cookie = await signInAt(parley.url, USER.username, USER.password);
    const browser = await launchBrowser();
    const context = await signedInContext(
      browser,
      parley,
      { cookie },
      { viewport: SHOTS["desktop-light"].viewport, deviceScaleFactor: SCALE },
    );
    const page = await context.newPage();
    await page.goto(parley.url);
    for (const story of EARLIER) await play(page, fake, story);
    await play(page, fake, SHOWN, true);
    for (const name of names) {
      const { viewport, scheme } = SHOTS[name];
      await page.setViewportSize(viewport);
      await page.emulateMedia({ colorScheme: scheme });
      const answer = page.locator('article[data-role="assistant"]').last();
      if ((await answer.getAttribute("data-status")) !== "streaming") throw new Error("The held answer ended.");
      await answer.scrollIntoViewIfNeeded();
      const path = join(values.out, `${name}.png`);
      await page.screenshot({ path, animations: "disabled" });
      console.log(`${path}: ${Math.round(Bun.file(path).size / 1024)} KB`);
    }
    await page.goto("about:blank");
    await context.close();
  } finally {
    await closeBrowser();
    await parley.stop();
    await fake.stop();
    rmSync(home, { recursive: true, force: true });
  }
  console.log(`screenshots taken in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (import.meta.main) await main();
