/* What a search finds, as the repository returns it and the view shows it. */

/** Where ts_headline marks a match; control characters, so no text can fake one. */
export const MATCH_START = "\u0001";
export const MATCH_END = "\u0002";

export type SearchHit = {
  chatId: string;
  title: string;
  /** The title with its matches marked (MATCH_START / MATCH_END). */
  titleMarked: string;
  /** The newest matching message in the chat, if the match is not only in the title. */
  messageId: string | null;
  /** Around the matches in that message, marked the same way. */
  snippetMarked: string | null;
  /** The chat is archived: out of the list, found all the same. */
  archived: boolean;
};
