import { afterAll, beforeAll, expect, test } from "bun:test";
import { type SQL, sql } from "drizzle-orm";
import { count, dollars } from "../../src/usage/types.ts";
import { eachDriver } from "../support/db.ts";
import { alertOf } from "../support/page-text.ts";
import { type Person, startTestServer, type TestServer } from "../support/server.ts";

const DAY = 24 * 60 * 60 * 1000;
const MINI = "openai/gpt-4o-mini";
const CLAUDE = "anthropic/claude-sonnet-4";
/** A model name a spreadsheet would run as a formula, with a comma and quotes besides. */
const EVIL = '=HYPERLINK("http://evil.example","x"),y';

/** The cells of a table's body rows (the row's header first), by the table's id. */
function tableRows(html: string, id: string): string[][] {
  const table = new RegExp(`<table id="${id}"[\\s\\S]*?</table>`).exec(html)?.[0];
  if (!table) throw new Error(`no table #${id}`);
  const body = /<tbody[^>]*>([\s\S]*?)<\/tbody>/.exec(table)![1]!;
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((r) =>
    [...r[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((c) =>
      c[1]!
        .replace(/<[^>]+>/g, "")
        .replaceAll("&#39;", "'")
        .replaceAll("&quot;", '"')
        .replaceAll("&amp;", "&")
        .trim(),
    ),
  );
}

/** A CSV as rows of cells (quoted cells with commas, quotes and line ends). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\r" && text[i + 1] === "\n") {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
      i++;
    } else cell += c;
  }
  return rows;
}

type Sums = { key: string | null; requests: number; cost: number; prompt: number; completion: number };

eachDriver("the usage pages", (t) => {
  let server: TestServer;
  let ann: Person;
  let bob: Person;
  let formulaId: string;
  const now = Date.now();
  const ago = (days: number, hours = 1) => new Date(now - days * DAY - hours * 3600_000);

  const insert = async (
    userId: string | null,
    model: string,
    at: Date,
    cost: number | null,
    estimate: number,
    prompt: number | null,
    completion: number | null,
  ) => {
    await t.database.rows(sql`insert into usage (id, user_id, kind, model, estimate, prompt_tokens, completion_tokens, cost, created_at, settled_at)
      values (${Bun.randomUUIDv7()}, ${userId}, 'answer', ${model}, ${estimate}, ${prompt}, ${completion}, ${cost}, ${at.toISOString()}, ${cost === null ? null : at.toISOString()})`);
  };

  /** The same sums the page shows, computed here in SQL from the rows. */
  const sums = (group: SQL, where: SQL) =>
    t.database.rows<Sums>(sql`select ${group} as key, count(*)::int as requests,
      sum(coalesce(cost, estimate))::float8 as cost, coalesce(sum(prompt_tokens), 0)::int as prompt,
      coalesce(sum(completion_tokens), 0)::int as completion
      from usage left join users on users.id = usage.user_id where ${where} group by 1 order by 1`);

  const cellsOf = (s: Sums, label: string) => [
    label,
    dollars(s.cost),
    count(s.requests),
    count(s.prompt),
    count(s.completion),
  ];
  const sorted = (rows: string[][]) => [...rows].sort((a, b) => a[0]!.localeCompare(b[0]!));

  beforeAll(async () => {
    server = await startTestServer(t);
    ann = await server.signUp("ann");
    bob = await server.signUp("bob");
    formulaId = Bun.randomUUIDv7();
    // A name the sign-up rules refuse, as an older or imported account might have it.
    await t.database.rows(sql`insert into users (id, username, password_hash) values (${formulaId}, '=cmd', 'x')`);
    await insert(ann.user.id, MINI, ago(0), 0.0123, 0.05, 1000, 200);
    await insert(ann.user.id, MINI, ago(3), 0.5, 1, 20_000, 3000);
    await insert(ann.user.id, CLAUDE, ago(3), null, 0.25, null, null); // in flight: its estimate counts
    await insert(bob.user.id, CLAUDE, ago(10), 1.25, 2, 50_000, 8000);
    await insert(bob.user.id, EVIL, ago(20), 0.0004, 0.01, 10, 5);
    await insert(formulaId, MINI, ago(5), 0.75, 1, 3000, 700);
    await insert(null, CLAUDE, ago(6), 0.3, 1, 900, 90); // a deleted account's
    await insert(ann.user.id, MINI, ago(45), 2, 3, 70_000, 9000);
    await insert(bob.user.id, CLAUDE, ago(100), 4, 5, 100_000, 1000);
  });
  afterAll(() => server.stop());

  const since = (days: number) => {
    const today = new Date(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
    return sql`usage.created_at >= ${new Date(today.getTime() - (days - 1) * DAY).toISOString()}`;
  };

  test("the admin's page shows the last 30 days by person and by model, as the database sums them", async () => {
    const res = await server.fetch("/admin/usage", { headers: { accept: "text/html" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    const byModel = await sums(sql`usage.model`, since(30));
    expect(sorted(tableRows(html, "usage-by-model"))).toEqual(sorted(byModel.map((s) => cellsOf(s, s.key!))));
    const byPerson = await sums(sql`users.username`, since(30));
    expect(sorted(tableRows(html, "usage-by-person"))).toEqual(
      sorted(byPerson.map((s) => cellsOf(s, s.key ?? "(deleted account)"))),
    );
    // Older rows are outside the period.
    expect(byModel.reduce((n, s) => n + s.requests, 0)).toBe(7);
    // The chart: one image with a title and a summary, one bar per day that spent anything.
    expect(html).toContain('role="img"');
    expect(html).toContain('<title id="usage-chart-title">Cost per day,');
    expect([...html.matchAll(/<rect [^>]*data-usage-day=/g)].length).toBe(6);
    expect(html).toContain("1 request is counted at its estimate until its cost is known.");
    // The person filter lists everyone; the CSV link asks for the same period.
    expect(html).toContain(`<option value="${ann.user.id}">ann</option>`);
    expect(html).toContain('href="/admin/usage.csv?period=30"');
  });

  test("the period and person filters choose the rows", async () => {
    const seven = await (await server.fetch("/admin/usage?period=7")).text();
    const week = await sums(sql`usage.model`, since(7));
    expect(sorted(tableRows(seven, "usage-by-model"))).toEqual(sorted(week.map((s) => cellsOf(s, s.key!))));

    const quarter = await (await server.fetch("/admin/usage?period=90")).text();
    expect(tableRows(quarter, "usage-by-person").find((r) => r[0] === "ann")).toEqual(
      cellsOf((await sums(sql`users.username`, sql`${since(90)} and users.username = 'ann'`))[0]!, "ann"),
    );

    const from = ago(101, 0).toISOString().slice(0, 10);
    const to = ago(40, 0).toISOString().slice(0, 10);
    const custom = await (await server.fetch(`/admin/usage?period=custom&from=${from}&to=${to}`)).text();
    expect(sorted(tableRows(custom, "usage-by-model"))).toEqual(
      sorted([
        cellsOf({ key: MINI, requests: 1, cost: 2, prompt: 70_000, completion: 9000 }, MINI),
        cellsOf({ key: CLAUDE, requests: 1, cost: 4, prompt: 100_000, completion: 1000 }, CLAUDE),
      ]),
    );

    const bobs = await (await server.fetch(`/admin/usage?period=30&person=${bob.user.id}`)).text();
    expect(tableRows(bobs, "usage-by-model")).toEqual(
      (await sums(sql`usage.model`, sql`${since(30)} and usage.user_id = ${bob.user.id}`))
        .sort((a, b) => b.cost - a.cost)
        .map((s) => cellsOf(s, s.key!)),
    );
    expect(bobs).not.toContain('id="usage-by-person"');
    expect(bobs).toContain(`<option value="${bob.user.id}" selected>bob</option>`);
    expect(bobs).toContain(`href="/admin/usage.csv?period=30&person=${bob.user.id}"`);
  });

  test("the CSV holds the same numbers, one line per day, person and model, with formulas kept as text", async () => {
    const res = await server.fetch("/admin/usage.csv?period=30");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(res.headers.get("content-disposition")).toStartWith('attachment; filename="parley-usage-');
    const [head, ...rows] = parseCsv(await res.text());
    expect(head).toEqual([
      "day",
      "person",
      "model",
      "requests",
      "prompt_tokens",
      "completion_tokens",
      "cost_usd",
      "unsettled_requests",
    ]);
    const byModel = await sums(sql`usage.model`, since(30));
    for (const s of byModel) {
      const mine = rows.filter((r) => r[2] === (s.key!.startsWith("=") ? `'${s.key}` : s.key));
      expect(mine.reduce((n, r) => n + Number(r[3]), 0)).toBe(s.requests);
      expect(mine.reduce((n, r) => n + Number(r[6]), 0)).toBeCloseTo(s.cost, 9);
      expect(mine.reduce((n, r) => n + Number(r[4]), 0)).toBe(s.prompt);
    }
    expect(rows.map((r) => r[1])).toContain("'=cmd");
    expect(rows.map((r) => r[1])).toContain("(deleted account)");
    expect(rows.map((r) => r[2])).toContain(`'${EVIL}`);
    // Small costs are written out, never as 4e-4.
    expect(rows.find((r) => r[2] === `'${EVIL}`)?.[6]).toBe("0.0004");
    expect(rows.find((r) => r[2] === CLAUDE && r[1] === "ann")?.[7]).toBe("1");
  });

  test("someone who is not an admin gets a page saying so, and no numbers", async () => {
    for (const path of ["/admin/usage", "/admin/usage.csv", "/admin/audit"]) {
      const res = await ann.fetch(path, { headers: { accept: "text/html" } });
      expect([path, res.status]).toEqual([path, 403]);
      const html = await res.text();
      expect(html).toContain("Only an admin can do that");
      expect(html).not.toContain("bob");
    }
    expect((await ann.fetch("/admin/usage.csv")).status).toBe(403);
  });

  test("each person sees only their own usage on the account page, and its CSV", async () => {
    const account = await (await ann.fetch("/account")).text();
    expect(account).toContain('hx-get="/account/usage"');
    const res = await ann.fetch("/account/usage", { headers: { "hx-request": "true" } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toContain("<html");
    const mine = await sums(sql`usage.model`, sql`${since(30)} and usage.user_id = ${ann.user.id}`);
    expect(sorted(tableRows(html, "usage-by-model"))).toEqual(sorted(mine.map((s) => cellsOf(s, s.key!))));
    expect(html).not.toContain('id="usage-by-person"');
    expect(html).not.toContain(EVIL.slice(0, 10));
    expect(html).not.toContain("bob");

    const page = await (await ann.fetch("/account/usage?period=90")).text();
    expect(page).toContain("<title>Your usage · Parley</title>");
    const [head, ...rows] = parseCsv(await (await ann.fetch("/account/usage.csv?period=90")).text());
    expect(head).not.toContain("person");
    expect(rows.reduce((n, r) => n + Number(r[2]), 0)).toBe(4);
    expect(rows.map((r) => r[1]).sort()).toEqual([CLAUDE, MINI, MINI, MINI]);
    // A person cannot ask for someone else's: the person filter is not theirs to use.
    const other = await (await bob.fetch(`/account/usage.csv?period=90&person=${ann.user.id}`)).text();
    expect(other).not.toContain(MINI);
  });

  test("bad periods are answered with a sentence, never an error page", async () => {
    const cases: [string, string][] = [
      ["period=custom&from=2025-03-01&to=2025-02-01", "The from date is after the to date: swap them."],
      ["period=custom&from=2025-02-30&to=2025-03-01", "“2025-02-30” is not a date"],
      ["period=custom&from=yesterday&to=2025-03-01", "“yesterday” is not a date"],
      ["period=custom&from=2025-01-01", "Give both a from date and a to date"],
      ["period=custom&from=1990-01-01&to=2025-01-01", "A period can be at most five years long"],
      ["period=forever", "Choose a period from the list."],
      ["person=nobody", "There is no such person"],
      [`person=${Bun.randomUUIDv7()}`, "There is no such person"],
    ];
    for (const [query, sentence] of cases) {
      const page = await server.fetch(`/admin/usage?${query}`);
      expect([query, page.status]).toEqual([query, 400]);
      expect(alertOf(await page.text())).toContain(sentence);
      const csv = await server.fetch(`/admin/usage.csv?${query}`);
      expect([query, csv.status, await csv.text()]).toEqual([query, 400, expect.stringContaining(sentence)]);
    }
    const fragment = await ann.fetch("/account/usage?period=custom&from=2025-03-01&to=2025-02-01", {
      headers: { "hx-request": "true" },
    });
    expect(fragment.status).toBe(422);
    expect(alertOf(await fragment.text())).toBe("The from date is after the to date: swap them.");
  });

  test("/metrics has settled cost and tokens per model, and no person", async () => {
    // A scrape waits only briefly for the sums (a slow database must not hold /metrics up): ask until they are in.
    let text = "";
    for (let i = 0; i < 200 && !text.includes("parley_usage_cost_dollars_total{"); i++) {
      if (i) await Bun.sleep(25);
      text = await (await fetch(`${server.url}/metrics`)).text();
    }
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    const settled = await t.database.rows<{ model: string; cost: number; prompt: number; completion: number }>(
      sql`select model, sum(cost)::float8 as cost, coalesce(sum(prompt_tokens), 0)::int as prompt,
        coalesce(sum(completion_tokens), 0)::int as completion from usage where cost is not null group by model`,
    );
    expect(settled.length).toBe(3);
    for (const s of settled) {
      const label = s.model.replaceAll("\\", "\\\\").replaceAll('"', '\\"');
      expect(value(`parley_usage_cost_dollars_total{model="${label}"}`)).toBeCloseTo(s.cost, 9);
      expect(value(`parley_usage_tokens_total{model="${label}",direction="prompt"}`)).toBe(s.prompt);
      expect(value(`parley_usage_tokens_total{model="${label}",direction="completion"}`)).toBe(s.completion);
    }
    expect(text).toContain("# TYPE parley_usage_cost_dollars_total counter");
    expect(text).not.toContain("ann");
    expect(text).not.toContain(ann.user.id);
  });
});
