import type { User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { Notice } from "../components/form.tsx";
import { TransferForms } from "../components/transfer.tsx";
import { Section, SettingsShell } from "./account.tsx";

export type ImportPageProps = {
  assets: AssetUrls;
  user: User;
  /** Why the file was refused. */
  error?: string;
  /** What was imported. */
  notice?: string;
};

/** Where an import lands: what it brought (or why it was refused), and the forms to go again. */
export function ImportPage(props: ImportPageProps): JSX.Element {
  return (
    <SettingsShell assets={props.assets} title="Import" user={props.user}>
      <Notice error={props.error} notice={props.notice} />
      {props.notice ? (
        <p>
          <a href="/" class="text-sm font-medium text-indigo-600 hover:underline dark:text-indigo-400">
            Open your chats →
          </a>
        </p>
      ) : (
        ""
      )}
      <Section title="Export and import">
        <TransferForms />
      </Section>
    </SettingsShell>
  );
}
