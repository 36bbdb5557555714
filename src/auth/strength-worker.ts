/**
 * The worker thread that estimates a password's strength (see strength.ts). A separate entry
 * point of the binary (package.json's build lists it).
 */
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import { adjacencyGraphs, dictionary } from "@zxcvbn-ts/language-common";
import { answerCalls } from "../worker-calls.ts";
import type { Strength, StrengthRequest } from "./strength.ts";

declare const self: Worker;

const zxcvbn = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });

answerCalls<StrengthRequest, Strength>(self, ({ password, inputs }) => {
  const { score, feedback } = zxcvbn.check(password, inputs);
  return { score, feedback };
});
