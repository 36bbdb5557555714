import type { Children } from "@kitajs/html";
import type { Identity, Session, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { MIN_PASSWORD } from "../../src/limits.ts";
import type { Allowance } from "../../src/teams/limits-words.ts";
import { AdminAndSignOut } from "../components/account-links.tsx";
import { Button, Field, Notice } from "../components/form.tsx";
import { Allowances } from "../components/spending.tsx";
import { TransferForms } from "../components/transfer.tsx";
import { Layout } from "../layout.tsx";

type Messages = { error?: string; notice?: string };

/** The frame of the account and admin pages: a way back to the chats and a heading. */
export function SettingsShell(props: {
  assets: AssetUrls;
  title: string;
  user: User;
  children: Children;
  /** See Layout. */
  picker?: boolean;
}): JSX.Element {
  return (
    <Layout title={`${props.title} · Parley`} assets={props.assets} picker={props.picker}>
      <div class="min-h-dvh">
        <header class="flex items-center justify-between gap-3 border-b border-zinc-200 px-4 py-3 dark:border-zinc-800">
          <a href="/" class="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            ← Chats
          </a>
          <nav aria-label="Settings" class="flex items-center gap-4 text-sm">
            <a href="/account" class="hover:underline">
              Account
            </a>
            <a href="/presets" class="hover:underline">
              Presets
            </a>
            <AdminAndSignOut user={props.user} itemClass="hover:underline" />
          </nav>
        </header>
        <main class="mx-auto flex max-w-2xl flex-col gap-8 px-4 py-8">
          <h1 class="text-2xl font-semibold tracking-tight" safe>
            {props.title}
          </h1>
          {props.children}
        </main>
      </div>
    </Layout>
  );
}

export function Section(props: { title: string; id?: string; children: Children }): JSX.Element {
  return (
    <section id={props.id} class="flex flex-col gap-3 rounded-xl border border-zinc-200 p-5 dark:border-zinc-800">
      <h2 class="font-semibold" safe>
        {props.title}
      </h2>
      {props.children}
    </section>
  );
}

export type AccountPageProps = Messages & {
  assets: AssetUrls;
  user: User;
  sessions: Session[];
  currentSessionId: string;
  /** The spending limits that apply to the person, and what is left of each. */
  allowances: Allowance[];
  /** False when PASSWORD_SIGN_IN=false. */
  passwords: boolean;
  /** Single sign-on, when set up: the provider's name and the person's link to it. */
  sso?: { label: string; identity: Identity | undefined };
};

/** A person's own settings: password, export and import of chats, where they are signed in, sign out. */
export function AccountPage(props: AccountPageProps): JSX.Element {
  const others = props.sessions.filter((s) => s.id !== props.currentSessionId).length;
  return (
    <SettingsShell assets={props.assets} title="Account" user={props.user}>
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        Signed in as <strong safe>{props.user.username}</strong>
        {props.user.isAdmin ? " (admin)" : ""}.
      </p>
      <Section title="Spending">
        <Allowances allowances={props.allowances} />
      </Section>
      {props.sso ? <SingleSignOn {...props.sso} canUnlink={props.passwords && !!props.user.passwordHash} /> : ""}
      {!props.passwords || !props.user.passwordHash ? (
        ""
      ) : (
        <Section title="Change password">
          <form method="post" action="/account/password" class="flex flex-col gap-4">
            <Field label="Current password" name="current" type="password" autocomplete="current-password" />
            <Field
              label="New password"
              name="password"
              type="password"
              autocomplete="new-password"
              minlength={MIN_PASSWORD}
              maxlength={256}
              hint={`At least ${MIN_PASSWORD} characters and hard to guess. Your other devices will be signed out.`}
            />
            <div>
              <Button label="Change password" />
            </div>
          </form>
        </Section>
      )}
      <Section title="Export and import">
        <TransferForms />
      </Section>
      <Section title="Where you are signed in">
        <ul class="flex flex-col divide-y divide-zinc-200 text-sm dark:divide-zinc-800">
          {props.sessions.map((s) => (
            <li class="flex flex-wrap items-baseline justify-between gap-2 py-2">
              <span class="min-w-0 truncate" safe>
                {describeDevice(s.userAgent)}
              </span>
              <span class="text-zinc-500 dark:text-zinc-400">
                {s.id === props.currentSessionId ? (
                  <strong>this device</strong>
                ) : (
                  <>
                    last used{" "}
                    <time datetime={s.lastSeenAt.toISOString()} safe>
                      {s.lastSeenAt.toISOString().slice(0, 10)}
                    </time>
                  </>
                )}
              </span>
            </li>
          ))}
        </ul>
        {others > 0 ? (
          <form method="post" action="/account/signout-others">
            <Button kind="plain" label={`Sign out of ${others} other ${others === 1 ? "device" : "devices"}`} />
          </form>
        ) : (
          ""
        )}
      </Section>
      <Section title="Presets">
        <p class="text-sm text-zinc-600 dark:text-zinc-400">
          A model, a system prompt and parameters under a name, to start new chats from.{" "}
          <a href="/presets" class="font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Your presets
          </a>
        </p>
      </Section>
      <Section title="Files">
        {/* The files feature's own fragment (GET /account/files), as for shared chats below. */}
        <div hx-get="/account/files" hx-trigger="load" hx-swap="outerHTML">
          <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
        </div>
      </Section>
      <Section title="Usage">
        {/* The usage feature's own fragment (GET /account/usage), as for shared chats below. */}
        <div hx-get="/account/usage" hx-trigger="load" hx-swap="outerHTML">
          <p class="text-sm text-zinc-500 dark:text-zinc-400">
            Loading… <a href="/account/usage">Your usage</a>
          </p>
        </div>
      </Section>
      <Section title="API keys">
        {/* The keys feature's own fragment (GET /account/keys), as for shared chats below. */}
        <div hx-get="/account/keys" hx-trigger="load" hx-swap="outerHTML">
          <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
        </div>
      </Section>
      <Section title="Shared chats">
        {/* The share feature's own fragment (GET /shares), so the account routes need not know about it. */}
        <div hx-get="/shares" hx-trigger="load" hx-swap="outerHTML">
          <p class="text-sm text-zinc-500 dark:text-zinc-400">Loading…</p>
        </div>
      </Section>
    </SettingsShell>
  );
}

/**
 * The person's link to the provider: linked (as whom, since when) with Unlink when a password
 * remains to sign in with; or a button to link it, which goes to the provider and back.
 */
function SingleSignOn(props: { label: string; identity: Identity | undefined; canUnlink: boolean }): JSX.Element {
  const { label, identity } = props;
  return (
    <Section title="Single sign-on">
      {identity ? (
        <>
          <p class="text-sm text-zinc-600 dark:text-zinc-400">
            Linked to <strong safe>{label}</strong> as <strong safe>{identity.label ?? identity.subject}</strong> since{" "}
            <time datetime={identity.createdAt.toISOString()} safe>
              {identity.createdAt.toISOString().slice(0, 10)}
            </time>
            : you can sign in with it.
          </p>
          {props.canUnlink ? (
            <form method="post" action="/account/sso/unlink">
              <Button kind="plain" label={`Unlink ${label}`} />
            </form>
          ) : (
            ""
          )}
        </>
      ) : (
        <>
          <p class="text-sm text-zinc-600 dark:text-zinc-400" safe>
            Link your {label} account to sign in with it instead of your password. You will be asked to sign in there.
          </p>
          {/* A link (see SsoButton in auth.tsx): the server checks that it was followed from this site. */}
          <p>
            <a
              href="/account/sso/link"
              class="inline-block rounded-md border border-zinc-300 px-4 py-2 text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
              safe
            >
              Link your {label} account
            </a>
          </p>
        </>
      )}
    </Section>
  );
}

/** "Firefox on Linux" from a user agent, without a parsing library: good enough to tell devices apart. */
export function describeDevice(userAgent: string | null): string {
  if (!userAgent) return "Unknown device";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Firefox\//.test(userAgent)
      ? "Firefox"
      : /Chrom(e|ium)\//.test(userAgent)
        ? "Chrome"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : (userAgent.split(/[ /]/)[0] ?? "Browser");
  const system = /iPhone|iPad/.test(userAgent)
    ? "iOS"
    : /Android/.test(userAgent)
      ? "Android"
      : /Mac OS X/.test(userAgent)
        ? "macOS"
        : /Windows/.test(userAgent)
          ? "Windows"
          : /Linux/.test(userAgent)
            ? "Linux"
            : "";
  return system ? `${browser} on ${system}` : browser;
}
