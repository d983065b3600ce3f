// jsonErrorOffset: where JSON text first goes wrong, agreeing with JSON.parse on what is JSON.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonErrorOffset, lineCol } from "../../src/cli/json-position.js";

const parses = (t: string) => {
  try {
    JSON.parse(t);
    return true;
  } catch {
    return false;
  }
};

describe("jsonErrorOffset", () => {
  it.each([
    ['{"a": [1, 2,]}', 12],
    ['{"a" 1}', 5],
    ["[1, 2", 5],
    ['"abc', 4],
    ["{}\n]", 3],
    ["tru", 0],
    ['{"a": 01}', 7],
    ['"\\x"', 2],
    ["", 0],
  ])("finds the first bad character of %j at %i", (text, offset) => {
    expect(parses(text)).toBe(false);
    expect(jsonErrorOffset(text)).toBe(offset);
  });

  it("is null exactly when JSON.parse accepts the text (property)", () => {
    const jsonish = fc.oneof(
      fc.json(),
      fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
      fc.tuple(fc.json(), fc.nat(), fc.constantFrom("}", "]", ",", ":", '"', "x", " ", "\\")).map(([j, n, c]) => {
        const k = j.length === 0 ? 0 : n % j.length;
        return j.slice(0, k) + c + j.slice(k);
      }),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        expect(jsonErrorOffset(text) === null).toBe(parses(text));
      }),
      { numRuns: 2000 },
    );
  });

  it("names line and column", () => {
    expect(lineCol("{\n  \"a\": [\n}", 11)).toBe("line 3, column 1");
  });
});
