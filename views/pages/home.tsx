import type { Chat } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { ChatList } from "../components/chat-list.tsx";
import { Layout } from "../layout.tsx";

export type HomeProps = { assets: AssetUrls; chats: Chat[]; hasApiKey: boolean };

export function HomePage({ assets, chats, hasApiKey }: HomeProps): JSX.Element {
  return (
    <Layout title="Parley" assets={assets}>
      <div class="flex h-full flex-col md:flex-row">
        <aside class="border-b border-zinc-200 bg-zinc-50 p-4 md:w-72 md:border-r md:border-b-0 dark:border-zinc-800 dark:bg-zinc-900">
          <p class="mb-4 text-lg font-semibold tracking-tight">Parley</p>
          <ChatList chats={chats} />
        </aside>
        <main class="flex flex-1 flex-col items-center justify-center gap-3 p-6 text-center">
          <h1 class="text-2xl font-semibold">What shall we talk about?</h1>
          <p class="max-w-md text-zinc-600 dark:text-zinc-400">
            Parley keeps your chats on this server and streams answers from any model on OpenRouter.
          </p>
          {hasApiKey ? null : (
            <p
              role="status"
              class="max-w-md rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
            >
              No API key is set. Start Parley with <code>OPENROUTER_API_KEY</code> in its environment to get answers.
            </p>
          )}
        </main>
      </div>
    </Layout>
  );
}
