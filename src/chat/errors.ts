/** A refusal the person can act on; shown next to the composer. */
export class ChatError extends Error {}

/** A refusal that holds only while an answer in the chat is written: its tab drops it once Send is back. */
export class StillWriting extends ChatError {}

export const NO_SUCH_CHAT = "This chat does not exist; it may have been deleted.";
export const NO_SUCH_PRESET = "There is no such preset; it may have been deleted.";
export const NO_SUCH_PROJECT = "There is no such project; it may have been deleted.";
export const STILL_WRITING = "An answer is still being written: wait for it, or press Stop, then send.";
export const WRITING_RETRY = "An answer is still being written: wait for it, or press Stop first.";
/** What every action on a chat says while its last answer has ended but could not be saved yet. */
export const END_UNSAVED =
  "The last answer is not saved yet: the database is not answering, and Parley keeps trying. Wait a moment, then try again.";
