import type { McpServer, User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import type { ToolInfo } from "../../src/tools/client.ts";
import { ConfirmButton } from "../components/confirm.tsx";
import { Button, Field, Notice } from "../components/form.tsx";
import { Section, SettingsShell } from "./account.tsx";

type Messages = { error?: string; notice?: string };

const muted = "text-sm text-zinc-500 dark:text-zinc-400";
const link = "font-medium text-indigo-600 hover:underline dark:text-indigo-400";
const box =
  "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-base focus:border-indigo-500 focus:outline-none dark:border-zinc-700 dark:bg-zinc-900";
const check = "size-4 accent-indigo-600";

/** The two fields of credentials: never filled in, whatever is stored. */
function Credentials(): JSX.Element {
  return (
    <>
      <Field label="Bearer token (optional)" name="token" type="password" autocomplete="off" required={false} />
      <div class="flex flex-col gap-1">
        <label for="tool-headers" class="text-sm font-medium">
          Other headers (optional, one “Name: value” a line)
        </label>
        <textarea id="tool-headers" name="headers" rows="2" class={box}></textarea>
      </div>
    </>
  );
}

export type ToolsPageProps = Messages & { assets: AssetUrls; user: User; servers: McpServer[] };

/** The MCP servers registered, and a form to register one. */
export function ToolsPage(props: ToolsPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Tools" user={props.user}>
      <a href="/admin" class={`${link} text-sm`}>
        ← Admin
      </a>
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm">
        Models that call tools can use the tools of the MCP servers registered here, in the chats whose people turn them
        on (the chat's Settings, then Tools). Servers are reached over MCP's Streamable HTTP transport; their tokens and
        headers are kept secret and never shown again.
      </p>
      <Section title="Servers">
        {props.servers.length ? (
          <ul class="flex flex-col divide-y divide-zinc-200 dark:divide-zinc-800">
            {props.servers.map((s) => (
              <li class="flex flex-wrap items-baseline justify-between gap-2 py-2">
                <a href={`/admin/tools/${s.id}`} class={link} safe>
                  {s.name}
                </a>
                <span class={muted} safe>
                  {`${s.enabledTools.length} tool${s.enabledTools.length === 1 ? "" : "s"} on${s.requireApproval ? " · each call approved" : ""} · ${s.url}`}
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p class={muted}>No server yet.</p>
        )}
      </Section>
      <Section title="Register a server">
        <form method="post" action="/admin/tools" class="flex flex-col gap-3">
          <Field label="Name" name="name" required maxlength={40} />
          <Field label="URL of its MCP endpoint" name="url" type="url" required />
          <Credentials />
          <label class="flex items-center gap-2 text-sm">
            <input type="checkbox" name="approval" class={check} /> Each call waits for the person to approve it
          </label>
          <div>
            <Button label="Register" />
          </div>
        </form>
      </Section>
    </SettingsShell>
  );
}

export type ToolServerPageProps = Messages & {
  assets: AssetUrls;
  user: User;
  server: McpServer;
  listed: { tools: ToolInfo[] } | { error: string };
};

/** One server: its tools (as it lists them now) to turn on or off, approval, credentials, removal. */
export function ToolServerPage(props: ToolServerPageProps): JSX.Element {
  const { server, listed } = props;
  const base = `/admin/tools/${server.id}`;
  const enabled = new Set(server.enabledTools);
  // Unreachable now: the tools turned on before are still listed, so they can be turned off.
  const tools: ToolInfo[] =
    "tools" in listed ? listed.tools : server.enabledTools.map((name) => ({ name, description: "", inputSchema: {} }));
  const headerNames = Object.keys(server.headers);
  return (
    <SettingsShell assets={props.assets} title={server.name} user={props.user}>
      <a href="/admin/tools" class={`${link} text-sm`}>
        ← Tools
      </a>
      <Notice error={props.error} notice={props.notice} />
      <p class="text-sm break-all" safe>
        {server.url}
      </p>
      <Section title="Its tools">
        {"error" in listed ? (
          <p role="alert" class="text-sm text-red-700 dark:text-red-300" safe>
            {`${listed.error} The tools turned on before are shown.`}
          </p>
        ) : (
          ""
        )}
        {tools.length ? (
          <form method="post" action={`${base}/tools`} class="flex flex-col gap-2">
            {tools.map((t) => (
              <label class="flex items-start gap-2 text-sm">
                <input
                  type="checkbox"
                  name="tool"
                  value={t.name}
                  checked={enabled.has(t.name)}
                  class={`${check} mt-0.5`}
                />
                <span>
                  <span class="font-mono font-medium" safe>
                    {t.name}
                  </span>
                  {t.description ? (
                    <span class={`${muted} block`} safe>
                      {t.description.slice(0, 300)}
                    </span>
                  ) : (
                    ""
                  )}
                </span>
              </label>
            ))}
            <div>
              <Button label="Save tools" />
            </div>
          </form>
        ) : (
          <p class={muted}>It lists no tools.</p>
        )}
      </Section>
      <Section title="Approval">
        <form method="post" action={`${base}/approval`} class="flex flex-wrap items-center gap-3">
          <label class="flex items-center gap-2 text-sm">
            <input type="checkbox" name="approval" checked={server.requireApproval} class={check} /> Each call waits for
            the person to approve it, seeing its arguments
          </label>
          <Button label="Save" kind="plain" />
        </form>
      </Section>
      <Section title="Credentials">
        {headerNames.length ? (
          <p class={muted}>
            Sent with every request: <span safe>{headerNames.join(", ")}</span> (values hidden).
          </p>
        ) : (
          <p class={muted}>None are sent.</p>
        )}
        <form method="post" action={`${base}/credentials`} class="flex flex-col gap-3">
          <Credentials />
          <div>
            <Button label="Replace credentials" kind="plain" />
          </div>
        </form>
      </Section>
      <Section title="Remove">
        <ConfirmButton
          id="remove-server"
          button="Remove this server"
          buttonClass="self-start rounded-md border border-red-300 px-4 py-2 text-sm font-medium text-red-700 hover:bg-red-50 dark:border-red-800 dark:text-red-300 dark:hover:bg-red-950"
          question={`Remove ${server.name}?`}
          detail="Chats that use it stop offering its tools; answers keep the steps they made."
          confirm="Remove server"
          post={`${base}/delete`}
        />
      </Section>
    </SettingsShell>
  );
}

export type ChatToolsPageProps = Messages & {
  assets: AssetUrls;
  user: User;
  chatId: string;
  offered: McpServer[];
  chosen: Set<string>;
};

/** Which registered servers' tools a chat's answers may use. */
export function ChatToolsPage(props: ChatToolsPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Tools for this chat" user={props.user}>
      <a href={`/chats/${props.chatId}`} class={`${link} text-sm`}>
        ← Back to the chat
      </a>
      <Notice error={props.error} notice={props.notice} />
      {props.offered.length ? (
        <form method="post" action={`/chats/${props.chatId}/tools`} class="flex flex-col gap-3">
          <p class="text-sm">
            Models that call tools may use the tools of the servers chosen here in this chat's answers; each call shows
            in the answer, with what it returned.
          </p>
          {props.offered.map((s) => (
            <label class="flex items-center gap-2 text-sm">
              <input type="checkbox" name="server" value={s.id} checked={props.chosen.has(s.id)} class={check} />
              <span
                safe
              >{`${s.name} (${s.enabledTools.join(", ")})${s.requireApproval ? ", each call approved by you" : ""}`}</span>
            </label>
          ))}
          <div>
            <Button label="Save" />
          </div>
        </form>
      ) : (
        <p class="text-sm">
          No tools are set up on this Parley yet: an admin registers MCP servers under Admin, Tools.
        </p>
      )}
    </SettingsShell>
  );
}
