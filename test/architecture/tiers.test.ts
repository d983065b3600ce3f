// The test tiers (test/tiers.ts): every test file belongs to exactly one; the unit tier stays in-process; and no test
// reads a file outside the repository (fixtures live under test/fixtures/).
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { TIERS, type Tier } from "../tiers.js";
import { ROOT } from "./source.js";

/** Every file under test/ (relative to the repository root), fixtures excluded unless asked. */
function filesUnder(dir: string, keep: (f: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...filesUnder(rel, keep));
    else if (e.isFile() && keep(rel)) out.push(rel);
  }
  return out.sort();
}

const testFiles = filesUnder("test", (f) => f.endsWith(".test.ts"));
const tierOf = (f: string): Tier[] => (Object.keys(TIERS) as Tier[]).filter((t) => TIERS[t].some((d) => f.startsWith(`${d}/`)));

describe("test tiers", () => {
  it("every test file is in exactly one tier", () => {
    expect(testFiles.length).toBeGreaterThan(30);
    const wrong = testFiles.map((f) => ({ f, tiers: tierOf(f) })).filter(({ tiers }) => tiers.length !== 1);
    expect(wrong.map(({ f, tiers }) => `${f}: ${tiers.length === 0 ? "no tier (add its directory to test/tiers.ts)" : `tiers ${tiers.join(", ")}`}`)).toEqual([]);
  });

  it("every tier directory holds tests", () => {
    const empty = Object.values(TIERS).flat().filter((d) => !testFiles.some((f) => f.startsWith(`${d}/`)));
    expect(empty).toEqual([]);
  });

  it("the unit tier runs no mb process and reads no dist/ (those tests belong to e2e)", () => {
    const unit = testFiles.filter((f) => tierOf(f)[0] === "unit");
    const e2eOnly = [/support\/mb\.js/, /engine\/helpers\.js/, /oci\/helpers\.js/, /["'`](?:\.\.\/)+dist\//, /["']shellcheck["']/];
    const offending = unit.flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return e2eOnly.filter((re) => re.test(text)).map((re) => `${f}: ${re.source}`);
    });
    expect(offending).toEqual([]);
  });
});

describe("tests read nothing outside the repository", () => {
  const sources = filesUnder("test", (f) => /\.(ts|mjs|js)$/.test(f) && !f.startsWith("test/fixtures/"));

  it("no relative path in a test leaves the repository", () => {
    const escaping = sources.flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return [...text.matchAll(/["'`]((?:\.\.\/)+)/g)]
        .map((m) => m[1]!)
        .filter((up) => relative(ROOT, normalize(join(ROOT, dirname(f), up))).startsWith(".."))
        .map((up) => `${f}: '${up}'`);
    });
    expect(escaping).toEqual([]);
  });

  it("no test names a place outside the repository it could read from", () => {
    const outside = [/\/work\//, /shared\/seed/, /\bhomedir\(/, /process\.env\.HOME\b/];
    const hits = sources.flatMap((f) => {
      const text = readFileSync(join(ROOT, f), "utf8");
      return outside.filter((re) => re.test(text)).map((re) => `${f}: ${re.source}`);
    });
    expect(hits).toEqual([]);
  });
});
