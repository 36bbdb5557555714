import type { AssetUrls } from "../../src/http/assets.ts";
import { Layout } from "../layout.tsx";

const HEADINGS: Record<number, string> = {
  400: "That request could not be read",
  403: "Not for you",
  404: "There is nothing here",
  421: "Wrong address",
  500: "Something went wrong",
  503: "Parley is unavailable for a moment",
};

/**
 * A page for an error: what happened in one sentence and a way back. Without `assets` it is
 * unstyled: where the stylesheet's own request would be refused too (a wrong Host).
 */
export function ErrorPage({
  status,
  message,
  assets,
}: {
  status: number;
  message: string;
  assets?: AssetUrls;
}): JSX.Element {
  const heading = HEADINGS[status] ?? "Something went wrong";
  const body = (
    <main class="mx-auto flex min-h-dvh max-w-xl flex-col justify-center gap-4 px-6 py-12">
      <p class="text-sm font-semibold text-indigo-700 dark:text-indigo-300" safe>
        {`Error ${status}`}
      </p>
      <h1 class="text-3xl font-semibold tracking-tight" safe>
        {heading}
      </h1>
      <p class="text-zinc-700 dark:text-zinc-300" safe>
        {message}
      </p>
      <p>
        <a
          href="/"
          class="inline-flex min-h-11 items-center rounded-md bg-indigo-600 px-4 text-sm font-medium text-white hover:bg-indigo-500"
        >
          Back to your chats
        </a>
      </p>
    </main>
  );
  const title = `${status} · Parley`;
  if (assets) {
    return (
      <Layout title={title} assets={assets}>
        {body}
      </Layout>
    );
  }
  return (
    <>
      {"<!doctype html>"}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title safe>{title}</title>
        </head>
        <body>{body}</body>
      </html>
    </>
  );
}
