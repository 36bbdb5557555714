/*
 * The shapes the project service hands to the views: here, so both can import them without
 * importing each other.
 */

/** A project as the sidebar shows it: its newest few chats and how many it holds in all. */
export type ProjectGroup = {
  id: string;
  name: string;
  total: number;
  chats: { id: string; title: string }[];
};
