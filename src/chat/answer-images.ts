import { withDeadline } from "../db/errors.ts";
import { imageFromDataUrl } from "../files/data-url.ts";
import { FileError } from "../files/kinds.ts";
import { createFileService, fileLimits } from "../files/service.ts";
import { type ChatCore, WRITE_DEADLINE_MS } from "./core.ts";
import { attachmentsOf, attachNext } from "./repos/attachments.ts";

/** The answer an image arrived in. */
type Answer = { userId: string; chatId: string; messageId: string };

/** One answer's images so far: the work on them (one after another, in order), how many arrived, what was said. */
type Kept = { work: Promise<void>; arrived: number; files: Set<string>; notes: string[] };

/**
 * Images a model sends in its answer (image-output models, asked with `modalities`): each checked
 * by its bytes, stored as a file of the chat's owner (once per person, like an upload, counted in
 * their storage), and attached to the answer as it arrives, so an answer that fails or is
 * stopped later, or a server that stops, keeps the images that came. Tabs on the chat see each
 * one as it is kept; one left out is told beside the composer, and the answer goes on.
 */
export function createAnswerImages(core: ChatCore) {
  const { database, db, broadcast, locks, log } = core;
  const limits = fileLimits(core.config);
  const files = createFileService({ database, limits });
  // By the generation: forgotten with it, however its end went.
  const kept = new WeakMap<Answer, Kept>();

  function tell(answer: Answer, state: Kept, note: string) {
    state.notes.push(note);
    broadcast.status(answer.chatId, state.notes.join(" "), "info");
  }

  async function keep(answer: Answer, state: Kept, url: string, n: number) {
    if (n > limits.perMessage) {
      if (n === limits.perMessage + 1) {
        tell(answer, state, `The model sent more than ${limits.perMessage} images; the others were left out.`);
      }
      return;
    }
    try {
      const image = imageFromDataUrl(url, limits.fileBytes);
      const upload = {
        name: `image-${n}.${image.extension}`,
        data: new Blob([image.bytes as Uint8Array<ArrayBuffer>]),
      };
      const [file] = await withDeadline(files.store(answer.userId, [upload]), WRITE_DEADLINE_MS, "storing an image");
      // The same picture twice in one answer is shown once.
      if (state.files.has(file!.id)) return;
      state.files.add(file!.id);
      await locks.run(answer.chatId, async () => {
        await withDeadline(attachNext(db, answer.messageId, file!.id), WRITE_DEADLINE_MS, "attaching an image");
        const shown = await attachmentsOf(db, [answer.messageId]);
        broadcast.answerImages(answer.chatId, answer.messageId, shown.get(answer.messageId) ?? []);
      });
    } catch (err) {
      if (err instanceof FileError && err.message.startsWith("The model sent")) return tell(answer, state, err.message);
      // Refused by the person's storage limit.
      if (err instanceof FileError) return tell(answer, state, `An image from the model was not kept. ${err.message}`);
      log.warn("could not keep an image of an answer", { messageId: answer.messageId, error: err });
      tell(answer, state, "An image from the model could not be saved; it was left out.");
    }
  }

  return {
    /** An image arrived in an answer (its URL as sent): kept in the background, after the answer's earlier ones. */
    add(answer: Answer, url: string) {
      const state = kept.get(answer) ?? { work: Promise.resolve(), arrived: 0, files: new Set(), notes: [] };
      kept.set(answer, state);
      const n = ++state.arrived;
      state.work = state.work.then(() => keep(answer, state, url, n));
    },

    /** Resolves once every image that arrived in the answer is kept or left out: whether any was kept. */
    async settled(answer: Answer): Promise<boolean> {
      const state = kept.get(answer);
      if (!state) return false;
      await state.work;
      return state.files.size > 0;
    },
  };
}

export type AnswerImages = ReturnType<typeof createAnswerImages>;
