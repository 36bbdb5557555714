/*
 * The shapes the project service hands to the views: here, so both can import them without
 * importing each other.
 */

/** A project as the sidebar shows it: its newest few chats, and whether it holds more. */
export type ProjectGroup = {
  id: string;
  name: string;
  chats: { id: string; title: string }[];
  more: boolean;
};
