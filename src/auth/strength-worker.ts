/**
 * The worker thread that estimates a password's strength (see strength.ts). A separate entry
 * point of the binary (package.json's build lists it).
 */
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import type { StrengthReply, StrengthRequest } from "./strength.ts";

declare const self: Worker;

const zxcvbn = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });

self.onmessage = (event: MessageEvent<StrengthRequest>) => {
  const { id, password, inputs } = event.data;
  let reply: StrengthReply;
  try {
    const { score, feedback } = zxcvbn.check(password, inputs);
    reply = { id, score, feedback };
  } catch (err) {
    reply = { id, error: String((err as Error)?.message ?? err) };
  }
  self.postMessage(reply);
};
