// jsonErrorOffset: where JSON text first goes wrong, agreeing with JSON.parse on what is JSON.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isUtf8 } from "node:buffer";
import { invalidUtf8Offset, jsonErrorOffset, lineCol } from "../../src/cli/json-position.js";

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

describe("invalidUtf8Offset", () => {
  it.each([
    [[0x61, 0xff], 1],
    [[0xc0, 0xaf], 0],
    [[0x61, 0xed, 0xa0, 0x80], 1],
    [[0xe2, 0x82], 0],
    [[0xf4, 0x90, 0x80, 0x80], 0],
    [[0xe2, 0x82, 0xac, 0x80], 3],
  ])("finds the first bad byte of %j at %i", (bytes, offset) => {
    expect(invalidUtf8Offset(Uint8Array.from(bytes))).toBe(offset);
  });

  it("agrees with Node's isUtf8, and everything before the offset is UTF-8", () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 24 }), fc.string({ unit: "binary" }).map((s) => new Uint8Array(Buffer.from(s))));
    fc.assert(
      fc.property(bytes, fc.uint8Array({ maxLength: 3 }), (good, tail) => {
        const b = Buffer.concat([Buffer.from(good), Buffer.from(tail)]);
        const at = invalidUtf8Offset(b);
        expect(at === null).toBe(isUtf8(b));
        if (at !== null) expect(isUtf8(b.subarray(0, at))).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
