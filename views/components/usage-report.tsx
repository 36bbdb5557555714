import { PERIODS } from "../../src/usage/period.ts";
import { count, DELETED_ACCOUNT, dollars, type UsageReport, type UsageTotals } from "../../src/usage/types.ts";
import { Notice } from "./form.tsx";
import { UsageChart } from "./usage-chart.tsx";

export type UsageQuery = { period: string; from: string; to: string; person: string };

export type UsageReportProps = {
  /** Where the form asks again: /admin/usage or /account/usage. */
  action: string;
  /** The CSV of what is shown (undefined when nothing is shown). */
  csvUrl?: string;
  query: UsageQuery;
  /** The admin's person filter; absent on a person's own page. */
  people?: { id: string; username: string }[];
  report?: UsageReport;
  error?: string;
  /** On the account page: the form replaces this block through htmx (it works without, as a page). */
  fragment?: boolean;
};

const input =
  "rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900";
const th = "px-2 py-1.5 text-right font-medium";
const td = "px-2 py-1.5 text-right tabular-nums";

/** Cost and tokens of a period: the form that chooses it, the chart, the tables and the CSV link. */
export function UsageReportView(props: UsageReportProps): JSX.Element {
  const { query, report } = props;
  const hx = props.fragment ? { "hx-get": props.action, "hx-target": "#usage", "hx-swap": "outerHTML" } : {};
  return (
    <div id="usage" class="flex flex-col gap-4">
      <form method="get" action={props.action} class="flex flex-wrap items-end gap-3" {...hx}>
        <div class="flex flex-col gap-1">
          <label for="usage-period" class="text-sm font-medium">
            Period
          </label>
          <select id="usage-period" name="period" class={input}>
            {Object.entries(PERIODS).map(([value, words]) => (
              <option value={value} selected={query.period === value}>
                {words}
              </option>
            ))}
          </select>
        </div>
        <div class="flex flex-col gap-1">
          <label for="usage-from" class="text-sm font-medium">
            From
          </label>
          <input id="usage-from" name="from" type="date" value={query.from} class={input} />
        </div>
        <div class="flex flex-col gap-1">
          <label for="usage-to" class="text-sm font-medium">
            To
          </label>
          <input id="usage-to" name="to" type="date" value={query.to} class={input} />
        </div>
        {props.people ? (
          <div class="flex flex-col gap-1">
            <label for="usage-person" class="text-sm font-medium">
              Person
            </label>
            <select id="usage-person" name="person" class={input}>
              <option value="">Everyone</option>
              {props.people.map((p) => (
                <option value={p.id} selected={query.person === p.id} safe>
                  {p.username}
                </option>
              ))}
            </select>
          </div>
        ) : (
          ""
        )}
        <button
          type="submit"
          class="rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
        >
          Show
        </button>
      </form>
      <p class="-mt-2 text-xs text-zinc-500 dark:text-zinc-400">
        From and To count when the period is “From and to dates”. Days are UTC days.
      </p>
      <Notice error={props.error} />
      {report ? <Report report={report} byPerson={!!props.people && !query.person} csvUrl={props.csvUrl} /> : ""}
    </div>
  );
}

function Report(props: { report: UsageReport; byPerson: boolean; csvUrl?: string }): JSX.Element {
  const { report } = props;
  const { totals, period } = report;
  const days = report.byDay.filter((d) => d.requests > 0);
  return (
    <>
      <p class="text-sm" id="usage-summary">
        <strong safe>{dollars(totals.cost)}</strong>
        <span
          safe
        >{` on ${count(totals.requests)} ${totals.requests === 1 ? "request" : "requests"} (${count(totals.promptTokens)} prompt and ${count(totals.completionTokens)} completion tokens), ${period.from} to ${period.to}.`}</span>
        {totals.unsettled > 0 ? (
          <span class="text-zinc-500 dark:text-zinc-400" safe>
            {` ${count(totals.unsettled)} ${totals.unsettled === 1 ? "request is counted at its estimate until its" : "requests are counted at their estimates until their"} cost is known.`}
          </span>
        ) : (
          ""
        )}
      </p>
      <UsageChart id="usage-chart" days={report.byDay} title={`Cost per day, ${period.from} to ${period.to}`} />
      {props.csvUrl ? (
        <p class="text-sm">
          <a href={props.csvUrl} class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Download as CSV
          </a>{" "}
          <span class="text-zinc-500 dark:text-zinc-400">
            (one line per day{props.byPerson ? ", person" : ""} and model)
          </span>
        </p>
      ) : (
        ""
      )}
      {props.byPerson ? (
        <UsageTable
          id="usage-by-person"
          caption="By person"
          head="Person"
          rows={report.byPerson.map((p) => ({ label: p.username ?? DELETED_ACCOUNT, totals: p }))}
        />
      ) : (
        ""
      )}
      <UsageTable
        id="usage-by-model"
        caption="By model"
        head="Model"
        rows={report.byModel.map((m) => ({ label: m.model, totals: m }))}
      />
      <UsageTable
        id="usage-by-day"
        caption={days.length < report.byDay.length ? "By day (days with requests)" : "By day"}
        head="Day"
        rows={days.map((d) => ({ label: d.day, totals: d }))}
      />
    </>
  );
}

/** One breakdown as a real table: what a screen reader reads, and what the chart draws. */
function UsageTable(props: {
  id: string;
  caption: string;
  head: string;
  rows: { label: string; totals: UsageTotals }[];
}): JSX.Element {
  return (
    // Focusable, so a table wider than a phone scrolls sideways by keyboard too.
    <section class="overflow-x-auto" tabindex="0" aria-label={props.caption}>
      <table id={props.id} class="w-full text-sm">
        {/* Cost first: on a phone it is in view, the token counts a scroll away. */}
        <caption class="pb-1 text-left font-semibold" safe>
          {props.caption}
        </caption>
        <thead class="border-b border-zinc-200 text-zinc-600 dark:border-zinc-800 dark:text-zinc-400">
          <tr>
            <th scope="col" class="px-2 py-1.5 text-left font-medium" safe>
              {props.head}
            </th>
            <th scope="col" class={th}>
              Cost
            </th>
            <th scope="col" class={th}>
              Requests
            </th>
            <th scope="col" class={th}>
              Prompt tokens
            </th>
            <th scope="col" class={th}>
              Completion tokens
            </th>
          </tr>
        </thead>
        <tbody class="divide-y divide-zinc-100 dark:divide-zinc-900">
          {props.rows.length === 0 ? (
            <tr>
              <td colspan="5" class="px-2 py-1.5 text-zinc-500 dark:text-zinc-400">
                No requests in this period.
              </td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <tr>
                <th scope="row" class="max-w-64 truncate px-2 py-1.5 text-left font-normal" safe>
                  {r.label}
                </th>
                <td class={td} safe>
                  {dollars(r.totals.cost)}
                </td>
                <td class={td} safe>
                  {count(r.totals.requests)}
                </td>
                <td class={td} safe>
                  {count(r.totals.promptTokens)}
                </td>
                <td class={td} safe>
                  {count(r.totals.completionTokens)}
                </td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </section>
  );
}
