/** The admin page's ways to its other pages: groups, usage and the audit log. */
export function AdminReports(): JSX.Element {
  const link = "font-medium text-indigo-600 hover:underline dark:text-indigo-400";
  return (
    <ul class="flex flex-col gap-1 text-sm">
      <li>
        <a href="/admin/groups" class={link}>
          Groups
        </a>
        : which models people may use, and their spending limits.
      </li>
      <li>
        <a href="/admin/tools" class={link}>
          Tools
        </a>
        : MCP servers whose tools models may call, and which need approval.
      </li>
      <li>
        <a href="/admin/usage" class={link}>
          Usage
        </a>
        : what everyone spent, by person, model and day, with a CSV.
      </li>
      <li>
        <a href="/admin/audit" class={link}>
          Audit log
        </a>
        : sign-ins, admin actions, API keys and shared links.
      </li>
    </ul>
  );
}
