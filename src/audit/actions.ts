/**
 * The actions the audit log names, with the words the admin's page shows for each. Other features
 * may write actions not listed here; the page shows those by their code.
 */
export const AUDIT_ACTIONS: Record<string, string> = {
  setup: "Set up this Parley",
  signin: "Signed in",
  "signin.failed": "Sign-in failed",
  signout: "Signed out",
  signup: "Signed up",
  "user.create": "Added a person",
  "user.delete": "Deleted a person",
  "user.password": "Set a person's password",
  "user.disable": "Disabled a person",
  "user.enable": "Enabled a person",
  "signup.open": "Opened sign-up",
  "signup.close": "Closed sign-up",
  "share.create": "Shared a chat",
  "share.revoke": "Revoked a shared link",
  "key.create": "Created an API key",
  "key.revoke": "Revoked an API key",
  "limits.site": "Set the site's spending limits",
  "limits.person": "Set a person's spending limits",
  "group.create": "Made a group",
  "group.rename": "Renamed a group",
  "group.delete": "Deleted a group",
  "group.member.add": "Added a person to a group",
  "group.member.remove": "Took a person out of a group",
  "group.models": "Set a group's models",
  "group.limits": "Set a group's spending limits",
  "tools.create": "Registered an MCP server",
  "tools.update": "Changed an MCP server",
  "tools.delete": "Removed an MCP server",
  "sso.link": "Linked a single sign-on account",
  "sso.unlink": "Unlinked a single sign-on account",
  "sso.refused": "Single sign-on refused",
  "sso.roles": "Roles changed by single sign-on",
};

/** The words for an action, or its code when it has none. */
export const actionWords = (action: string): string => AUDIT_ACTIONS[action] ?? action;
