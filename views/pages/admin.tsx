import type { User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { dollars, MIN_PASSWORD } from "../../src/limits.ts";
import type { SiteLimits } from "../../src/teams/limits-words.ts";
import { AdminReports } from "../components/admin-reports.tsx";
import { ConfirmButton } from "../components/confirm.tsx";
import { Button, Field, Notice } from "../components/form.tsx";
import { PersonLimitsForm, SiteLimitsForm } from "../components/spending.tsx";
import { Section, SettingsShell } from "./account.tsx";

export type AdminPageProps = {
  assets: AssetUrls;
  user: User;
  /** `sso`: linked to the single sign-on provider (they may have no password). */
  users: (User & { chats: number; sso: boolean })[];
  signupOpen: boolean;
  /** The default spending limits and the site's cap; what everyone spent this month. */
  limits: SiteLimits;
  siteSpent: number;
  /** What was typed into the limits form when it was refused. */
  typedLimits?: Record<string, string>;
  /** What was typed into "Add a person" when it was refused (never the password). */
  adding?: { username: string; admin: boolean };
  error?: string;
  notice?: string;
};

/** The admin's page: who has an account, adding people, and whether anyone may sign up. */
export function AdminPage(props: AdminPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Admin" user={props.user}>
      <Notice error={props.error} notice={props.notice} />
      <AdminReports />
      <Section title="Sign-up">
        <form method="post" action="/admin/signup" class="flex flex-wrap items-center justify-between gap-3">
          <p class="text-sm" id="signup-state">
            {props.signupOpen
              ? "Sign-up is open: anyone who can reach this site can create an account."
              : "Sign-up is closed: only an admin can add people."}
          </p>
          <Button
            kind="plain"
            name="open"
            value={props.signupOpen ? "false" : "true"}
            label={props.signupOpen ? "Close sign-up" : "Open sign-up"}
          />
        </form>
      </Section>
      <Section title="Spending limits">
        <SiteLimitsForm limits={props.limits} siteSpent={props.siteSpent} typed={props.typedLimits} />
      </Section>
      <Section title="Add a person">
        <form method="post" action="/admin/users" class="flex flex-col gap-4">
          <Field label="Username" name="username" autocomplete="off" maxlength={40} value={props.adding?.username} />
          <Field
            label="Password"
            name="password"
            type="password"
            autocomplete="new-password"
            minlength={MIN_PASSWORD}
            maxlength={256}
            hint={`At least ${MIN_PASSWORD} characters; tell it to them, they can change it.`}
          />
          <label class="flex items-center gap-2 text-sm">
            <input type="checkbox" name="admin" value="true" checked={props.adding?.admin} /> Admin (can add and remove
            people)
          </label>
          <div>
            <Button label="Add user" />
          </div>
        </form>
      </Section>
      <Section title="People">
        <ul class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
          {props.users.map((u) => (
            <li class="flex flex-col gap-2 py-3" id={`user-${u.id}`}>
              <div class="flex flex-wrap items-baseline justify-between gap-2">
                <span class="font-medium" safe>
                  {u.username}
                </span>
                {u.disabledAt ? (
                  <span class="rounded bg-zinc-200 px-1.5 py-0.5 text-xs font-medium dark:bg-zinc-800">Disabled</span>
                ) : (
                  ""
                )}
                <span class="ml-auto text-sm text-zinc-500 dark:text-zinc-400" safe>
                  {`${u.isAdmin ? "admin · " : ""}${u.sso ? (u.passwordHash ? "single sign-on and password · " : "single sign-on · ") : ""}${u.chats} ${u.chats === 1 ? "chat" : "chats"}${u.id === props.user.id ? " · you" : ""}${limitsNote(u)}`}
                </span>
              </div>
              {u.disabledAt ? (
                <form method="post" action={`/admin/users/${u.id}/enable`}>
                  <Button kind="plain" label={`Enable ${u.username}`} />
                </form>
              ) : (
                ""
              )}
              {u.id === props.user.id ? (
                ""
              ) : (
                <details class="text-sm">
                  <summary class="cursor-pointer text-zinc-600 dark:text-zinc-400">Manage</summary>
                  <div class="mt-3 flex flex-col gap-3">
                    <PersonLimitsForm
                      userId={u.id}
                      username={u.username}
                      limits={{ day: u.dailyLimit, month: u.monthlyLimit }}
                    />
                    <form method="post" action={`/admin/users/${u.id}/password`} class="flex flex-wrap items-end gap-2">
                      <div class="min-w-48 flex-1">
                        <Field
                          id={`field-password-${u.id}`}
                          label={`New password for ${u.username}`}
                          name="password"
                          type="password"
                          autocomplete="new-password"
                          minlength={MIN_PASSWORD}
                          maxlength={256}
                        />
                      </div>
                      <Button kind="plain" label="Set password" />
                    </form>
                    {u.disabledAt ? (
                      ""
                    ) : (
                      <form method="post" action={`/admin/users/${u.id}/disable`} class="flex flex-col gap-1">
                        <p class="text-zinc-600 dark:text-zinc-400">
                          Disabling signs them out everywhere and stops their answers; their chats are kept.
                        </p>
                        <div>
                          <Button kind="plain" label={`Disable ${u.username}`} />
                        </div>
                      </form>
                    )}
                    <div>
                      <ConfirmButton
                        id={`confirm-delete-user-${u.id}`}
                        button={`Delete ${u.username} and their ${u.chats} ${u.chats === 1 ? "chat" : "chats"}`}
                        buttonClass="rounded-md border border-red-300 px-4 py-2 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
                        question={`Delete ${u.username} and their ${u.chats} ${u.chats === 1 ? "chat" : "chats"}?`}
                        detail="This cannot be undone."
                        confirm={`Delete ${u.username}`}
                        post={`/admin/users/${u.id}/delete`}
                      />
                    </div>
                  </div>
                </details>
              )}
            </li>
          ))}
        </ul>
      </Section>
    </SettingsShell>
  );
}

/** " · limits $5.00 a day, $50.00 a month": a person's own limits, when set. */
function limitsNote(u: User): string {
  const set = [
    u.dailyLimit === null ? "" : `${dollars(u.dailyLimit)} a day`,
    u.monthlyLimit === null ? "" : `${dollars(u.monthlyLimit)} a month`,
  ].filter(Boolean);
  return set.length ? ` · own limit ${set.join(", ")}` : "";
}
