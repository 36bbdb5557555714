import type { User } from "../../src/db/schema.ts";

/** The admin page (for admins) and sign-out, as the sidebar and the settings pages offer them. */
export function AdminAndSignOut({ user, itemClass }: { user: User; itemClass: string }): JSX.Element {
  return (
    <>
      {user.isAdmin ? (
        <a href="/admin" class={itemClass}>
          Admin
        </a>
      ) : (
        ""
      )}
      <form method="post" action="/signout">
        <button type="submit" class={itemClass}>
          Sign out
        </button>
      </form>
    </>
  );
}
