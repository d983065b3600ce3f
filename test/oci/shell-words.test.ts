// The evidence command splitter: POSIX word splitting and quoting, no expansion, and bash as the differential oracle.
import { spawnSync } from "node:child_process";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitShellWords } from "../../src/oci/engine/shell-words.js";
import { escapeShellArg } from "../../src/program/render.js";

describe("splitShellWords", () => {
  it("splits the seed's smoke test into three words", () => {
    expect(splitShellWords("/bin/sh -c 'echo oci-smoke-ok'")).toEqual(["/bin/sh", "-c", "echo oci-smoke-ok"]);
  });

  it.each([
    ["  a   b\tc\n", ["a", "b", "c"]],
    ["''", [""]],
    ['""', [""]],
    ["a'b'\"c\"d", ["abcd"]],
    [`"a \\" \\\\ \\$ \\\` \\x"`, ['a " \\ $ ` \\x']],
    ["a\\ b \\'c", ["a b", "'c"]],
    ["'$HOME `x` ; | &'", ["$HOME `x` ; | &"]],
    ["a\\\nb", ["ab"]],
    ["x#y", ["x#y"]],
    ["", []],
  ] as const)("%j -> %j", (line, words) => {
    expect(splitShellWords(line)).toEqual(words);
  });

  it.each([
    ["echo $HOME", /unquoted '\$'/],
    ['echo "$HOME"', /'\$' inside double quotes/],
    ["echo `id`", /unquoted '`'/],
    ["a | b", /unquoted '\|'/],
    ["a > f", /unquoted '>'/],
    ["a; b", /unquoted ';'/],
    ["a && b", /unquoted '&'/],
    ["(a)", /unquoted '\('/],
    ["a # c", /comment/],
    ["'open", /unterminated single quote/],
    ['"open', /unterminated double quote/],
    ["a\\", /trailing backslash/],
  ] as const)("refuses %j", (line, message) => {
    expect(() => splitShellWords(line)).toThrow(message);
  });

  it("inverts escapeShellArg for any argv (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary" }), { maxLength: 6 }), (argv) => {
        expect(splitShellWords(argv.map(escapeShellArg).join(" "))).toEqual(argv);
      }),
      { numRuns: 500 },
    );
  });

  it("agrees with bash on words made of quoted pieces (property)", () => {
    const piece = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_.\/=:-]{1,6}$/),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes("'") && !s.includes("\0")).map((s) => `'${s}'`),
      fc.string({ maxLength: 6 }).filter((s) => !s.includes("\0")).map((s) => `"${s.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`),
    );
    const line = fc.array(fc.array(piece, { minLength: 1, maxLength: 3 }).map((p) => p.join("")), { maxLength: 5 }).map((w) => w.join(" "));
    fc.assert(
      fc.property(line, (l) => {
        const bash = spawnSync("bash", ["-c", `for a in ${l}; do printf '%s\\0' "$a"; done`], { encoding: "utf8" });
        expect(bash.status).toBe(0);
        const words = bash.stdout === "" ? [] : bash.stdout.slice(0, -1).split("\0");
        expect(splitShellWords(l)).toEqual(words);
      }),
      { numRuns: 150 },
    );
  });
});
