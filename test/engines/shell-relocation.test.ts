// The quoting of the standalone backends, checked by the programs that read it: a relocated word, as bash expands it,
// is the text with each relocated store path replaced by its variable's value (and, where asked, each whole-word $out
// by the output); a written file names its dependency where it lies; a Nix string, as nix-instantiate evaluates it,
// is exactly the text, whatever it holds (`${`, `''`, `\`, quotes, line breaks, `$`).
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { nixString } from "../../src/backends/nix.js";
import { relocatedWord, renderRelocatedStep } from "../../src/backends/shell-graph.js";
import type { PlanStep } from "../../src/core/plan.js";
import { tempDirs } from "../support/temp-dirs.js";

const dirs = tempDirs("mb-engines-quote");
afterAll(() => dirs.removeAll());

const DEP = "/mb/store/0123456789abcdfghijklmnpqrsvwxyz-dep";
const relocation = new Map([[DEP, "mb_dep_0"]]);

const TEXTS = [
  DEP,
  `${DEP}/bin/tool`,
  `--flag=${DEP}/x`,
  `'quoted ${DEP}' and "double ${DEP}"`,
  `line one\n${DEP}\nline three`,
  `$out/a ${DEP} \${out}/b $outdir $(touch /nonexistent-mb) \`x\``,
  `${DEP}-longer-name is another entry`,
  "no store path here, but $out",
  "",
];

/** What bash prints for a word, with mb_dep_0 and out set. */
function bashWord(word: string): string {
  const r = spawnSync("bash", ["-c", `set -eu; mb_dep_0=/deps/here; out=/the/out; printf '%s' ${word}`], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout;
}

describe("relocatedWord, as bash reads it", () => {
  it("each relocated store path becomes its variable's value; $out (whole word) the output only where asked", () => {
    for (const text of TEXTS) {
      const relocated = text.replaceAll(/\/mb\/store\/0123456789abcdfghijklmnpqrsvwxyz-dep(?![A-Za-z0-9+._?=-])/g, "/deps/here");
      expect(bashWord(relocatedWord(text, relocation, false))).toBe(relocated);
      expect(bashWord(relocatedWord(text, relocation, true))).toBe(relocated.replaceAll(/\$out(?![A-Za-z0-9_])|\$\{out\}/g, "/the/out"));
    }
  });
});

describe("a written file that names a dependency", () => {
  it("holds the dependency's location, and the rest of the text byte for byte", () => {
    const out = dirs.tempDir("out");
    const text = `prefix=${DEP}\nquote ' " \\ $out \`x\` $(y)\n${DEP}/lib`;
    const step: PlanStep = { _con: "writeStep", name: "write:etc/conf", path: "etc/conf" as never, text };
    const script = renderRelocatedStep(step, relocation);
    expect(script).not.toContain(DEP);
    const r = spawnSync("bash", ["-c", `set -eu; mb_dep_0=/deps/here; out=${out}\n${script}`], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(readFileSync(join(out, "etc/conf"), "utf8")).toBe(`${text.replaceAll(DEP, "/deps/here")}\n`);
  });
});

describe("nixString, as nix-instantiate evaluates it", () => {
  it("is exactly the text", () => {
    const dir = dirs.tempDir("nix");
    for (const d of ["etc", "home"]) mkdirSync(join(dir, d));
    writeFileSync(join(dir, "etc", "nix.conf"), "build-users-group =\nsubstituters =\n");
    const env = { PATH: "/usr/bin:/bin", HOME: join(dir, "home"), XDG_CACHE_HOME: join(dir, "home"), NIX_STORE_DIR: join(dir, "store"), NIX_STATE_DIR: join(dir, "var"), NIX_LOG_DIR: join(dir, "log"), NIX_CONF_DIR: join(dir, "etc"), NIX_PATH: "" };
    const texts = [...TEXTS, "${builtins.currentTime}", "$${x}", "''${x}''", "a\\nb\\\\", 'say "hi"', "tab\there\rcr", "unicode ✓ é", "$", "\\"];
    const expr = `[ ${texts.map(nixString).join(" ")} ]`;
    const r = spawnSync("nix-instantiate", ["--eval", "--strict", "--json", "--expr", expr], { env, encoding: "utf8" });
    if (r.error) throw new Error(`nix-instantiate is required for this test and could not be run (apt-get install nix-bin): ${r.error.message}`);
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual(texts);
  });

  it("a NUL byte, which no Nix string can carry, is exit 2", () => {
    expect(() => nixString("a\0b")).toThrow(expect.objectContaining({ exitCode: 2 }));
  });
});
