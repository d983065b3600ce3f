// `mb introspect examples/oci-image` against the seed page's "One build, many views" section, line for line.
// The seed page's text is a fixture of this repository: test/fixtures/seed/oci-image-example.txt (see the README there
// for where it comes from); the original's introspect output is a fact to compare against, not something to regenerate.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mb, ROOT } from "../support/mb.js";

const SEED = join(ROOT, "test/fixtures/seed/oci-image-example.txt");

/** The seed section, from "The same internalized program..." to the end. */
function seedSection(): string[] {
  const text = readFileSync(SEED, "utf8");
  const start = text.indexOf("The same internalized program is interpreted several ways.");
  return text.slice(start).split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
}

/** Our markdown as the seed page renders it: headings and bullets as text, no backticks, code fences as their language. */
function rendered(markdown: string): string[] {
  return markdown
    .split("\n")
    .map((l) => l.replace(/^### /, "").replace(/^- /, "  • ").replaceAll("`", "").replace(/^sh$/, "sh"))
    .map((l) => (l === "sh" ? "sh" : l))
    .filter((l) => l !== "" && l !== "")
    .map((l) => l.trimEnd());
}

function normalize(lines: string[]): string[] {
  return lines
    .map((l) => l.replace(/^sh$/, "sh"))
    .map((l) => l.replace(/ \S*\/[0-9a-z]{32}-busybox[^ ]*$/, " <busybox>"))
    .map((l) => l.replace(/^(  • node tool:\S+ \(tool\) package) \S+$/, "$1 <package>"))
    // Output paths are normalised once (issue 9): the seed's `index -> $out/index.json` is `index -> index.json` here.
    .map((l) => l.replace(/^(  • \S+ -> )\$out\//, "$1"));
}

describe("introspect examples/oci-image", () => {
  it("matches the seed section line for line (busybox path, tool package names and the $out/ of output paths aside)", () => {
    const r = mb(["introspect", "examples/oci-image"]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    const ours = normalize(rendered(out.replace(/```sh\n/g, "sh\n").replace(/```\n?/g, "")));
    const seed = normalize(seedSection());
    expect(seed.length).toBeGreaterThan(90);
    expect(ours).toEqual(seed);
  });
});
