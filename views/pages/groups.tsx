import type { Group, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import type { GroupSummary, Member } from "../../src/teams/types.ts";
import { ConfirmButton } from "../components/confirm.tsx";
import { Button, Field, Notice } from "../components/form.tsx";
import { Section, SettingsShell } from "./account.tsx";

type Messages = { error?: string; notice?: string };

const muted = "text-sm text-zinc-500 dark:text-zinc-400";
const link = "font-medium text-indigo-600 hover:underline dark:text-indigo-400";
const box =
  "rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900";

const money = (n: number | null) => (n === null ? undefined : `$${n.toFixed(2)}`);

/** "Every model", or "3 patterns: anthropic/*, openai/gpt-4o-mini, …". */
export function modelsSummary(list: string[] | null): string {
  if (list === null) return "Every model";
  const first = list.slice(0, 3).join(", ");
  return `Only ${first}${list.length > 3 ? `, and ${list.length - 3} more` : ""}`;
}

function limitsSummary(g: Group): string {
  const parts = [
    money(g.dailyLimit) && `${money(g.dailyLimit)} a day`,
    money(g.monthlyLimit) && `${money(g.monthlyLimit)} a month`,
  ].filter(Boolean);
  return parts.length ? parts.join(", ") : "No limits of its own";
}

const back = (
  <a href="/admin" class={`${link} text-sm`}>
    ← Admin
  </a>
);

export type GroupsPageProps = Messages & {
  assets: AssetUrls;
  user: User;
  groups: GroupSummary[];
  /** What was typed into "New group" when it was refused. */
  name?: string;
};

/** Every group, and a form to make one. */
export function GroupsPage(props: GroupsPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Groups" user={props.user}>
      {back}
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm">
        A group gives the people in it the same models and spending limits. Someone in no group, or in any group that
        allows every model, may use every model; someone whose groups all have a list may use the models any of those
        lists allows.
      </p>
      <Section title="New group">
        <form method="post" action="/admin/groups" class="flex flex-wrap items-end gap-2">
          <div class="min-w-48 flex-1">
            <Field
              label="Name"
              id="field-group-name"
              name="name"
              autocomplete="off"
              maxlength={60}
              value={props.name}
            />
          </div>
          <Button label="Create group" />
        </form>
      </Section>
      <Section title="Groups">
        {props.groups.length ? (
          <ul class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800" id="groups">
            {props.groups.map((g) => (
              <li class="flex flex-col gap-1 py-3" id={`group-${g.id}`}>
                <div class="flex flex-wrap items-baseline justify-between gap-2">
                  <a href={`/admin/groups/${g.id}`} class={link} safe>
                    {g.name}
                  </a>
                  <span class={muted} safe>
                    {g.members === 1 ? "1 person" : `${g.members} people`}
                  </span>
                </div>
                <p class={`${muted} break-words`} safe>
                  {`${modelsSummary(g.allowedModels)} · ${limitsSummary(g)}`}
                </p>
              </li>
            ))}
          </ul>
        ) : (
          <p class={muted}>No groups yet.</p>
        )}
      </Section>
    </SettingsShell>
  );
}

export type GroupPageProps = Messages & {
  assets: AssetUrls;
  user: User;
  group: Group;
  members: Member[];
  others: Member[];
  /** What was typed into a form that was refused, shown again to be fixed. */
  values?: { name?: string; mode?: string; patterns?: string; daily?: string; monthly?: string };
};

/** One group: its name, its people, its models and its limits. */
export function GroupPage(props: GroupPageProps): JSX.Element {
  const { group, values = {} } = props;
  const base = `/admin/groups/${group.id}`;
  const restricted = (values.mode ?? (group.allowedModels ? "only" : "every")) === "only";
  const patterns = values.patterns ?? (group.allowedModels ?? []).join("\n");
  return (
    <SettingsShell assets={props.assets} title={`Group: ${group.name}`} user={props.user}>
      <a href="/admin/groups" class={`${link} text-sm`}>
        ← Groups
      </a>
      <Notice error={props.error} notice={props.notice} />
      <Section title="Name">
        <form method="post" action={`${base}/name`} class="flex flex-wrap items-end gap-2">
          <div class="min-w-48 flex-1">
            <Field
              label="Group name"
              id="field-group-name"
              name="name"
              autocomplete="off"
              maxlength={60}
              value={values.name ?? group.name}
            />
          </div>
          <Button kind="plain" label="Rename" />
        </form>
      </Section>
      <Section title="People">
        {props.members.length ? (
          <ul class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800" id="members">
            {props.members.map((m) => (
              <li class="flex flex-wrap items-center justify-between gap-2 py-2" id={`member-${m.id}`}>
                <span>
                  <span class="font-medium" safe>
                    {m.username}
                  </span>
                  {m.disabledAt ? <span class={muted}> · disabled</span> : ""}
                </span>
                <form method="post" action={`${base}/members/${m.id}/remove`}>
                  <button
                    type="submit"
                    class="rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
                    aria-label={`Remove ${m.username} from ${group.name}`}
                  >
                    Remove
                  </button>
                </form>
              </li>
            ))}
          </ul>
        ) : (
          <p class={muted}>Nobody is in this group yet.</p>
        )}
        {props.others.length ? (
          <form method="post" action={`${base}/members`} class="flex flex-wrap items-end gap-2">
            <div class="flex min-w-48 flex-1 flex-col gap-1">
              <label for="field-member" class="text-sm font-medium">
                Add a person
              </label>
              <select id="field-member" name="user" class={box}>
                {props.others.map((p) => (
                  <option value={p.id} safe>
                    {p.disabledAt ? `${p.username} (disabled)` : p.username}
                  </option>
                ))}
              </select>
            </div>
            <Button kind="plain" label="Add to group" />
          </form>
        ) : (
          <p class={muted}>Everyone is in this group.</p>
        )}
      </Section>
      <Section title="Models">
        <form method="post" action={`${base}/models`} class="flex flex-col gap-3">
          <fieldset class="flex flex-col gap-2">
            <legend class="sr-only">Which models this group allows</legend>
            <label class="flex items-start gap-2 text-sm">
              <input type="radio" name="mode" value="every" checked={!restricted} class="mt-1" />
              <span>Every model (this group restricts none)</span>
            </label>
            <label class="flex items-start gap-2 text-sm">
              <input type="radio" name="mode" value="only" checked={restricted} class="mt-1" />
              <span>Only the models listed below</span>
            </label>
          </fieldset>
          <div class="flex flex-col gap-1">
            <label for="field-patterns" class="text-sm font-medium">
              Allowed models
            </label>
            <textarea
              id="field-patterns"
              name="patterns"
              rows="5"
              spellcheck="false"
              aria-describedby="field-patterns-hint"
              class={`${box} font-mono text-sm`}
              safe
            >
              {patterns}
            </textarea>
            <p id="field-patterns-hint" class="text-xs text-zinc-500 dark:text-zinc-400">
              One a line, or separated by commas: a model id such as openai/gpt-4o-mini, or a provider's models such as
              anthropic/*.
            </p>
          </div>
          <div>
            <Button label="Save models" />
          </div>
        </form>
      </Section>
      <Section title="Spending limits">
        <form method="post" action={`${base}/limits`} class="flex flex-col gap-3">
          <div class="grid gap-3 sm:grid-cols-2">
            <Field
              label="Per day, in US dollars"
              id="field-daily"
              name="daily"
              autocomplete="off"
              required={false}
              maxlength={20}
              value={values.daily ?? (group.dailyLimit === null ? "" : String(group.dailyLimit))}
            />
            <Field
              label="Per month, in US dollars"
              id="field-monthly"
              name="monthly"
              autocomplete="off"
              required={false}
              maxlength={20}
              value={values.monthly ?? (group.monthlyLimit === null ? "" : String(group.monthlyLimit))}
            />
          </div>
          <p class="text-xs text-zinc-500 dark:text-zinc-400">
            Empty: no limit from this group. A person in several groups gets the most generous of their limits; limits
            set on the person themselves come first.
          </p>
          <div>
            <Button label="Save limits" />
          </div>
        </form>
      </Section>
      <Section title="Delete">
        <p class="text-sm">The people in it keep their accounts and chats; only the group and its settings go.</p>
        <div>
          <ConfirmButton
            id="confirm-delete-group"
            button={`Delete ${group.name}`}
            buttonClass="rounded-md border border-red-300 px-4 py-2 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
            question={`Delete the group ${group.name}?`}
            detail="Its people lose the models and limits it gave them."
            confirm="Delete group"
            post={`${base}/delete`}
          />
        </div>
      </Section>
    </SettingsShell>
  );
}
