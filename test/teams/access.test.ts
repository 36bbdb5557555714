import { describe, expect, test } from "bun:test";
import { allowedBy, matches, parseAllowList, patternProblem } from "../../src/teams/access.ts";

describe("allow-list patterns", () => {
  test("a pattern matches its exact id, or every id that starts with what comes before a trailing *", () => {
    expect(matches("openai/gpt-4o-mini", "openai/gpt-4o-mini")).toBe(true);
    expect(matches("openai/gpt-4o-mini", "openai/gpt-4o")).toBe(false);
    expect(matches("openai/gpt-4o-mini", "openai/gpt-4o-mini-2024")).toBe(false);
    expect(matches("anthropic/*", "anthropic/claude-sonnet-4")).toBe(true);
    expect(matches("anthropic/*", "anthropic-fake/claude")).toBe(false);
    expect(matches("anthropic/*", "openai/anthropic/x")).toBe(false);
    expect(matches("openai/gpt-4o*", "openai/gpt-4o-mini")).toBe(true);
    expect(matches("openai/gpt-4o*", "openai/gpt-5")).toBe(false);
    // Ids are compared without regard to case (patterns are stored lowercased).
    expect(matches("openai/gpt-4o", "OpenAI/GPT-4o")).toBe(true);
  });

  test("typed lists: one a line or comma-separated, lowercased, each once, blank lines ignored", () => {
    expect(parseAllowList("anthropic/*\n\n  OpenAI/gpt-4o-mini , fake/fast\r\nanthropic/*")).toEqual({
      patterns: ["anthropic/*", "openai/gpt-4o-mini", "fake/fast"],
    });
    expect(parseAllowList("meta-llama/llama-3.1-8b-instruct:free, ~anthropic/claude-latest")).toEqual({
      patterns: ["meta-llama/llama-3.1-8b-instruct:free", "~anthropic/claude-latest"],
    });
  });

  test.each([
    ["", "List at least one model or pattern, or choose “Every model” to restrict none."],
    [" ,\n ", "List at least one model or pattern, or choose “Every model” to restrict none."],
    ["anthropic/**", "The pattern “anthropic/**” is not a model id or pattern"],
    ["**", "The pattern “**” is not a model id or pattern"],
    ["*", "The pattern “*” would allow every model"],
    ["*/gpt-4o", "The pattern “*/gpt-4o” is not a model id or pattern"],
    ["openai/*-mini", "The pattern “openai/*-mini” is not a model id or pattern"],
    ["anthropic", "The pattern “anthropic” is not a model id or pattern"],
    ["openai/", "The pattern “openai/” is not a model id or pattern"],
    ["openai/gpt 4o", "The pattern “openai/gpt 4o” has a space in it"],
    ["fake/fast\nopenai/<b>", "The pattern “openai/<b>” is not a model id or pattern"],
    [`openai/${"x".repeat(200)}`, "is 207 characters long; a pattern can be at most 200."],
    [
      Array.from({ length: 201 }, (_, i) => `p/m${i}`).join(","),
      "That list has 201 patterns; a group can have at most 200.",
    ],
  ])("a bad list (case %#) is refused with a sentence naming the bad pattern", (raw, sentence) => {
    const parsed = parseAllowList(raw);
    expect("problem" in parsed && parsed.problem).toContain(sentence);
  });

  test("exactly 200 patterns of 200 characters each are accepted", () => {
    const long = (i: number) => `p/${String(i).padStart(198, "m")}`;
    const parsed = parseAllowList(Array.from({ length: 200 }, (_, i) => long(i)).join("\n"));
    expect("patterns" in parsed && parsed.patterns.length).toBe(200);
    expect(patternProblem(long(1))).toBeUndefined();
  });
});

describe("who may use which model", () => {
  test("in no group, or in any group without a list, every model is allowed", () => {
    expect(allowedBy([])("anything/at-all")).toBe(true);
    expect(allowedBy([null])("anything/at-all")).toBe(true);
    // A restricted group and an unrestricted one: groups grant, never take away.
    expect(allowedBy([["fake/fast"], null])("other/model")).toBe(true);
  });

  test("when every group has a list, a model is allowed if any list matches it", () => {
    const allowed = allowedBy([["fake/fast"], ["anthropic/*"]]);
    expect(allowed("fake/fast")).toBe(true);
    expect(allowed("anthropic/claude-sonnet-4")).toBe(true);
    expect(allowed("fake/smart")).toBe(false);
    expect(allowed("")).toBe(false);
  });
});
