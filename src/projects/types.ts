/*
 * The shapes the project service hands to the views: here, so both can import them without
 * importing each other.
 */

/** A project as the sidebar heads its group; the group's chats load when it is opened (ProjectChatList). */
export type ProjectGroup = { id: string; name: string };
