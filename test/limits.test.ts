import { expect, test } from "bun:test";
import { dollars } from "../src/limits.ts";

test("costs: two significant digits below a dollar, cents from a dollar on, never a row of zeros for a real cost", () => {
  const cases: [number, string][] = [
    [0, "$0"],
    [0.0000004, "<$0.000001"],
    [0.00005, "$0.00005"],
    [0.000123, "$0.00012"],
    [0.0012, "$0.0012"],
    [0.00999999, "$0.01"],
    [0.0123, "$0.012"],
    [0.5, "$0.50"],
    [0.129, "$0.13"],
    [1, "$1.00"],
    [3.4, "$3.40"],
    [12.345, "$12.35"],
  ];
  expect(cases.map(([n]) => [n, dollars(n)])).toEqual(cases);
});
