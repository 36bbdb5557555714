import { dollars } from "../../src/usage/types.ts";

export type ChartDay = { day: string; cost: number; requests: number };

/** Units of the drawing: one slot per day, bars a fifth narrower than their slot. */
const SLOT = 10;
const BAR = 8;
const HEIGHT = 100;

/**
 * Cost per day as bars, drawn here as inline SVG: no script, no chart library. The bars take the
 * text colour (`currentColor`), so they follow light and dark; the labels are HTML beside the
 * drawing, so they keep their size on a phone. The numbers are in the table beneath it too, which
 * is what a screen reader reads; the drawing itself is one image with a title and a summary.
 */
export function UsageChart(props: { id: string; days: ChartDay[]; title: string }): JSX.Element {
  const { days } = props;
  const max = Math.max(0, ...days.map((d) => d.cost));
  const total = days.reduce((sum, d) => sum + d.cost, 0);
  const top = days.reduce((best, d) => (d.cost > best.cost ? d : best), days[0] ?? { day: "", cost: 0 });
  const width = Math.max(1, days.length) * SLOT;
  const summary =
    max > 0
      ? `${dollars(total)} in ${days.length} ${days.length === 1 ? "day" : "days"}; the most in one day was ${dollars(top.cost)}, on ${top.day}. The table below lists each day.`
      : `Nothing was spent in these ${days.length} days.`;
  return (
    <figure class="flex flex-col gap-1" id={props.id}>
      <div class="flex items-baseline justify-between text-xs text-zinc-500 dark:text-zinc-400" aria-hidden="true">
        <span>{max > 0 ? `${dollars(max)} a day` : "$0 a day"}</span>
        <span>cost per day</span>
      </div>
      <svg
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        preserveAspectRatio="none"
        class="h-40 w-full text-indigo-600 dark:text-indigo-400"
        xmlns="http://www.w3.org/2000/svg"
      >
        <title id={`${props.id}-title`} safe>
          {props.title}
        </title>
        <desc id={`${props.id}-desc`} safe>
          {summary}
        </desc>
        <g class="text-zinc-300 dark:text-zinc-700" stroke="currentColor" vector-effect="non-scaling-stroke">
          <line x1="0" y1="0.5" x2={width} y2="0.5" stroke-dasharray="4 4" vector-effect="non-scaling-stroke" />
          <line x1="0" y1={HEIGHT - 0.5} x2={width} y2={HEIGHT - 0.5} vector-effect="non-scaling-stroke" />
        </g>
        <g fill="currentColor">
          {days.map((d, i) => {
            if (d.cost <= 0) return "";
            // A day that spent anything shows at least a sliver.
            const h = Math.max(1, (d.cost / max) * (HEIGHT - 1));
            return (
              <rect x={i * SLOT + (SLOT - BAR) / 2} y={HEIGHT - h} width={BAR} height={h} data-usage-day={d.day}>
                <title
                  safe
                >{`${d.day}: ${dollars(d.cost)}, ${d.requests} ${d.requests === 1 ? "request" : "requests"}`}</title>
              </rect>
            );
          })}
        </g>
      </svg>
      <div class="flex justify-between text-xs text-zinc-500 dark:text-zinc-400" aria-hidden="true">
        <span safe>{days[0]?.day ?? ""}</span>
        <span safe>{days.at(-1)?.day ?? ""}</span>
      </div>
    </figure>
  );
}
