// `mb render nix <builder> > default.nix; nix-build default.nix` builds it with Debian's nix-bin 2.8 and no nixpkgs,
// in a test-private store (see nix-store.ts: its own store, state, log and configuration directories; sandbox on, the
// host paths the derivations ask for in __impureHostDeps allowed; no substituters, no network). For every example
// under examples/ (discovered when the test runs) the output equals `mb build`'s tree: the same names, modes, link
// targets and bytes; where a file embeds the output path (EMBEDS), the Nix store path in its place is the only difference.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb, mbBuild, ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { privateNix } from "./nix-store.js";
import { compareTrees, EMBEDS, exampleNames } from "./trees.js";

// Builds of the examples (and of their dependencies) take tens of seconds on a loaded machine: no test is timed.
const SLOW = 900_000;
const dirs = tempDirs("mb-engines-nix");
afterAll(() => dirs.removeAll());

const CHAIN = "test/engines/fixtures/chain.ts";
const store = dirs.tempDir("store");
const nix = privateNix(dirs.tempDir("nix"));

/** Renders `builder` as a Nix expression into a fresh default.nix; returns its path and text. */
function render(builder: string): { file: string; text: string } {
  const r = mb(["render", "nix", builder], { store });
  expect(r.status, r.stderr).toBe(0);
  const file = join(dirs.tempDir("expr"), "default.nix");
  writeFileSync(file, r.stdout);
  return { file, text: r.stdout };
}

/** nix-build's output path (its last line), failing the test with nix-build's output when it fails. */
function nixBuild(file: string, n = nix): string {
  const r = n.build(file);
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").pop()!;
}

describe("every example, built by nix-build from mb render nix, equals mb build's tree", () => {
  for (const name of exampleNames(ROOT)) {
    it(`examples/${name}`, () => {
      const built = mbBuild(`examples/${name}`, store);
      const { file, text } = render(`examples/${name}`);
      expect(text).not.toMatch(/<nixpkgs>|import\s*</);
      const out = nixBuild(file);
      expect(out.startsWith(`${nix.storeDir}/`)).toBe(true);
      const cmp = compareTrees(out, built);
      expect(cmp.differences).toEqual([]);
      // The only files that differ are those that embed their output path, and they differ by exactly that path.
      expect(cmp.embedding).toEqual(EMBEDS[name] ?? []);
    }, SLOW);
  }
});

describe("dependencies and inputs", () => {
  it("the chain: one derivation per builder, each dependency an input; the result equals mb build's", () => {
    const built = mbBuild(CHAIN, store);
    const { file, text } = render(CHAIN);
    expect(text.match(/^ {2}mb_\w+ = derivation \{$/gm)).toEqual(["  mb_dep_0 = derivation {", "  mb_dep_1 = derivation {", "  mb_root = derivation {"]);
    expect(text).toContain("    mb_dep_0 = mb_dep_0;\n    mb_dep_1 = mb_dep_1;\n  };\nin\nmb_root\n");
    const out = nixBuild(file);
    expect(compareTrees(out, built)).toEqual({ differences: [], embedding: ["self-link: the output path"] });
    expect(readFileSync(join(out, "all"), "utf8")).toBe("from base\nand middle\nfrom base\n");
    const drvs = readdirSync(nix.storeDir).filter((e) => /-chain-(base|middle|top)\.drv$/.test(e));
    expect(drvs.map((d) => d.slice(33)).sort()).toEqual(["chain-base.drv", "chain-middle.drv", "chain-top.drv"]);
  }, SLOW);

  it("the dependency is read sealed by Nix as by mb (the middle's modes file is the same)", () => {
    const out = nixBuild(render(`${CHAIN}#middle`).file);
    expect(readFileSync(join(out, "modes"), "utf8")).toBe("-r--r--r-- msg\n-r-xr-xr-x tool\n");
  }, SLOW);

  it("without the sandbox (sandbox = false, Debian's default) the same derivation builds the same tree", () => {
    const plain = privateNix(dirs.tempDir("nix-plain"), { sandbox: false });
    const built = mbBuild("examples/c-codegen", store);
    const out = nixBuild(render("examples/c-codegen").file, plain);
    expect(compareTrees(out, built)).toEqual({ differences: [], embedding: [] });
  }, SLOW);
});

describe("bad input", () => {
  it("a failing derivation names the failing step, by number and name, with its exit status", () => {
    const r = nix.build(render(`${CHAIN}#failing`).file);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("--- step 2/2 fail-on-purpose (runStep)\nabout to fail\n");
    expect(r.stderr).toContain("mb: chain-failing: step 2/2 fail-on-purpose (runStep) failed with exit status 3\n");
  }, SLOW);

  it("a builder whose host package is missing is not rendered (exit 1, naming it)", () => {
    const dir = dirs.tempDir("missing");
    const spec = join(dir, "spec.json");
    const tool = { name: "no-such-tool-mb", package: { _con: "hostPackage", name: "no-such-tool-mb" } };
    writeFileSync(
      spec,
      JSON.stringify({
        name: "needs-missing",
        parameters: [],
        inputs: [],
        dependencies: [],
        tools: [tool],
        operations: [{ _con: "declareTool", tool }, { _con: "runTool", name: "run-it", tool, args: [] }, { _con: "materializeDerivation", name: "needs-missing" }],
        outputs: [],
        evidence: [],
      }),
    );
    const r = mb(["render", "nix", spec], { store });
    expect(r.status, r.stdout).toBe(1);
    expect(r.stderr).toContain("package 'no-such-tool-mb'");
    expect(r.stderr).toContain("mb: error: nix backend: cannot render 'needs-missing': some packages or inputs are missing on this machine");
  }, SLOW);
});
