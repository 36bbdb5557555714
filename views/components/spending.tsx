import { dollars } from "../../src/limits.ts";
import {
  type Allowance,
  type Limits,
  leftSentence,
  lowNotice,
  resetPhrase,
  type SiteLimits,
} from "../../src/teams/limits-words.ts";
import { Button, Field } from "./form.tsx";

/** A limit as a form field shows it: empty for none. */
const shown = (amount: number | null) => (amount === null ? "" : String(amount));

/** Near the composer, when little of a limit is left (or none): what is left, or when it resets. */
export function SpendingNotice({ allowances, oob }: { allowances: Allowance[]; oob?: boolean }): JSX.Element {
  const text = lowNotice(allowances);
  const reached = allowances.some((a) => a.left <= 0);
  return (
    <p
      id="spending-notice"
      hx-swap-oob={oob ? "true" : undefined}
      role="status"
      data-kind={text ? (reached ? "reached" : "low") : undefined}
      class={
        text
          ? `mx-auto mb-2 max-w-3xl rounded-md border px-3 py-1.5 text-sm ${
              reached
                ? "border-red-300 bg-red-50 text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
                : "border-amber-300 bg-amber-50 text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
            }`
          : "hidden"
      }
      safe
    >
      {text ?? ""}
    </p>
  );
}

/** The account page's: each limit that applies, what is left of it and when it resets. */
export function Allowances({ allowances }: { allowances: Allowance[] }): JSX.Element {
  if (!allowances.length) {
    return <p class="text-sm text-zinc-600 dark:text-zinc-400">No spending limit applies to you.</p>;
  }
  return (
    <ul id="allowances" class="flex flex-col gap-3 text-sm">
      {allowances.map((a) => {
        const share = a.limit > 0 ? Math.min(1, a.left / a.limit) : 0;
        return (
          <li class="flex flex-col gap-1" data-period={a.period}>
            <span class="font-medium" safe>
              {leftSentence(a)}
            </span>
            <span
              aria-hidden="true"
              class="block h-1.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
            >
              <span
                class={`block h-full rounded-full ${share < 0.2 ? "bg-red-500" : "bg-indigo-500"}`}
                style={`width: ${Math.round(share * 100)}%`}
              ></span>
            </span>
            <span class="text-zinc-500 dark:text-zinc-400" safe>
              {`Spent ${dollars(a.spent)}; resets ${a.period === "day" ? "at" : "on"} ${resetPhrase(a.period, a.resetsAt)}.`}
            </span>
          </li>
        );
      })}
    </ul>
  );
}

/** The admin's: the default limits for everyone and the cap on the whole site's month. */
export function SiteLimitsForm(props: { limits: SiteLimits; siteSpent: number; typed?: Record<string, string> }) {
  const value = (name: keyof SiteLimits) => props.typed?.[name] ?? shown(props.limits[name]);
  return (
    <form method="post" action="/admin/limits" class="flex flex-col gap-4" id="site-limits">
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        In US dollars; empty means no limit. A day starts at 00:00 UTC, a month on the 1st. A person's own limits (under
        People) override these; otherwise the most generous of their groups' limits does.
      </p>
      <div class="grid gap-4 sm:grid-cols-2">
        <Field label="Default daily limit" name="day" value={value("day")} required={false} maxlength={20} />
        <Field label="Default monthly limit" name="month" value={value("month")} required={false} maxlength={20} />
      </div>
      <Field
        label="Site-wide monthly cap"
        name="siteMonth"
        value={value("siteMonth")}
        required={false}
        maxlength={20}
        hint={`Everyone's spending together; protects the OpenRouter key. Spent this month: ${dollars(props.siteSpent)}${props.limits.siteMonth === null ? "" : ` of ${dollars(props.limits.siteMonth)}`}.`}
      />
      <div>
        <Button label="Save limits" />
      </div>
    </form>
  );
}

/** In the people list: this person's own limits, overriding their groups' and the default. */
export function PersonLimitsForm(props: { userId: string; username: string; limits: Limits }): JSX.Element {
  return (
    <form method="post" action={`/admin/users/${props.userId}/limits`} class="flex flex-wrap items-end gap-2">
      <div class="min-w-32 flex-1">
        <Field
          id={`field-day-${props.userId}`}
          label={`Daily limit for ${props.username}`}
          name="day"
          value={shown(props.limits.day)}
          required={false}
          maxlength={20}
        />
      </div>
      <div class="min-w-32 flex-1">
        <Field
          id={`field-month-${props.userId}`}
          label={`Monthly limit for ${props.username}`}
          name="month"
          value={shown(props.limits.month)}
          required={false}
          maxlength={20}
        />
      </div>
      <Button kind="plain" label="Set limits" />
    </form>
  );
}
