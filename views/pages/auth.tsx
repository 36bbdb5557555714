import type { AssetUrls } from "../../src/http/assets.ts";
import { MIN_PASSWORD } from "../../src/limits.ts";
import { Button, Field, Notice } from "../components/form.tsx";
import { Layout } from "../layout.tsx";

export type AuthMode = "setup" | "signin" | "signup";

export type AuthPageProps = {
  assets: AssetUrls;
  mode: AuthMode;
  error?: string;
  notice?: string;
  username?: string;
  signupOpen?: boolean;
  /** The page to go on to once signed in (a path of this site), carried by the form. */
  next?: string;
  /** The OpenID provider's name (OIDC_LABEL), when single sign-on is set up. */
  sso?: string;
  /** False when PASSWORD_SIGN_IN=false: only the provider's button is offered. */
  passwords: boolean;
  /** Just signed out of a session started with the provider: offer its sign-out too. */
  providerSignOut?: boolean;
};

const TEXT = {
  setup: {
    title: "Create the admin account",
    intro:
      "This Parley has no accounts yet. The account you create now administers it: it can add people and open sign-up.",
    button: "Create account",
    action: "/setup",
  },
  signin: { title: "Sign in", intro: "", button: "Sign in", action: "/signin" },
  signup: { title: "Create an account", intro: "", button: "Create account", action: "/signup" },
} as const;

/**
 * The provider's button. A link, not a form: the page's CSP allows forms to go only to this site,
 * and browsers hold a form's redirect to the provider to that too. At set-up it makes the first
 * account (the admin) from the provider's.
 */
function SsoButton(props: { label: string; next?: string }): JSX.Element {
  const href =
    props.next && props.next !== "/" ? `/auth/oidc/start?next=${encodeURIComponent(props.next)}` : "/auth/oidc/start";
  return (
    <a
      href={href}
      class="block w-full rounded-md border border-zinc-300 px-4 py-2 text-center text-sm font-medium hover:bg-zinc-100 dark:border-zinc-700 dark:hover:bg-zinc-800"
      safe
    >
      Sign in with {props.label}
    </a>
  );
}

/** First-run set-up, sign-in and sign-up: one small form each, no script needed. */
export function AuthPage(props: AuthPageProps): JSX.Element {
  const text = TEXT[props.mode];
  const newPassword = props.mode !== "signin";
  const heading = (
    <>
      <h1 class="text-lg font-semibold">{text.title}</h1>
      {text.intro ? <p class="text-sm text-zinc-600 dark:text-zinc-400">{text.intro}</p> : ""}
      <Notice error={props.error} notice={props.notice} />
      {props.providerSignOut && props.sso ? (
        <p class="text-sm">
          <a href="/auth/oidc/signout" class="text-indigo-600 underline dark:text-indigo-400" safe>
            Sign out of {props.sso} too
          </a>
        </p>
      ) : (
        ""
      )}
    </>
  );
  const card = "flex flex-col gap-4 rounded-xl border border-zinc-200 p-6 shadow-sm dark:border-zinc-800";
  // Sign-up makes a password account: the provider's button belongs to sign-in and set-up.
  const sso = props.sso && props.mode !== "signup" ? <SsoButton label={props.sso} next={props.next} /> : "";
  if (!props.passwords) {
    return (
      <Layout title={`${text.title} · Parley`} assets={props.assets}>
        <main class="flex min-h-dvh items-center justify-center px-4 py-10">
          <div class="w-full max-w-sm">
            <p class="mb-6 text-center text-2xl font-semibold tracking-tight">Parley</p>
            <div class={card}>
              {heading}
              {sso}
            </div>
          </div>
        </main>
      </Layout>
    );
  }
  return (
    <Layout title={`${text.title} · Parley`} assets={props.assets}>
      <main class="flex min-h-dvh items-center justify-center px-4 py-10">
        <div class="w-full max-w-sm">
          <p class="mb-6 text-center text-2xl font-semibold tracking-tight">Parley</p>
          <form method="post" action={text.action} class={card}>
            {heading}
            {props.next && props.next !== "/" ? <input type="hidden" name="next" value={props.next} /> : ""}
            <Field
              label="Username"
              name="username"
              autocomplete="username"
              value={props.username}
              maxlength={40}
              autofocus={!props.username}
              hint={newPassword ? "Letters, digits, dots, dashes or underscores." : undefined}
            />
            <Field
              label="Password"
              name="password"
              type="password"
              autocomplete={newPassword ? "new-password" : "current-password"}
              minlength={newPassword ? MIN_PASSWORD : undefined}
              maxlength={256}
              autofocus={!!props.username}
              hint={
                newPassword
                  ? `At least ${MIN_PASSWORD} characters and hard to guess: a few unrelated words make one.`
                  : undefined
              }
            />
            <Button label={text.button} />
          </form>
          {sso ? (
            <div class="mt-4 flex flex-col gap-3">
              <p class="text-center text-xs text-zinc-500 dark:text-zinc-400">or</p>
              {sso}
            </div>
          ) : (
            ""
          )}
          {props.mode === "signin" && props.signupOpen ? (
            <p class="mt-4 text-center text-sm">
              New here?{" "}
              <a href="/signup" class="text-indigo-600 underline dark:text-indigo-400">
                Create an account
              </a>
            </p>
          ) : (
            ""
          )}
          {props.mode === "signup" ? (
            <p class="mt-4 text-center text-sm">
              Have an account?{" "}
              <a href="/signin" class="text-indigo-600 underline dark:text-indigo-400">
                Sign in
              </a>
            </p>
          ) : (
            ""
          )}
        </div>
      </main>
    </Layout>
  );
}
