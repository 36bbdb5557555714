import type { User } from "../../src/db/schema.ts";
import type { AssetUrls } from "../../src/http/assets.ts";
import { type UsageReportProps, UsageReportView } from "../components/usage-report.tsx";
import { SettingsShell } from "./account.tsx";

export type UsagePageProps = UsageReportProps & { assets: AssetUrls; user: User; title: string };

/**
 * The admin's Usage page (everyone's spending), or a person's own usage as a page of its own
 * (what the account page's section shows, reached without script).
 */
export function UsagePage(props: UsagePageProps): JSX.Element {
  const { assets, user, title, ...report } = props;
  return (
    <SettingsShell assets={assets} title={title} user={user}>
      <p class="text-sm text-zinc-600 dark:text-zinc-400">
        {report.people
          ? "What each answer, title and API request cost, by person, model and day. "
          : "What your answers, titles and API requests cost, by model and day. "}
        <a
          href={report.people ? "/admin" : "/account"}
          class="font-medium text-indigo-600 hover:underline dark:text-indigo-400"
        >
          {report.people ? "Back to Admin" : "Back to your account"}
        </a>
      </p>
      <UsageReportView {...report} />
    </SettingsShell>
  );
}
