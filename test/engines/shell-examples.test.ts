// `mb render shell <builder> > build.sh; bash build.sh OUT`, run in an empty directory with nothing but PATH in its
// environment and no store, builds the builder and, first, every builder it depends on (into OUT's sibling
// `.mb-deps/<store entry name>`, or `--deps DIR`, or taken from `--dep NAME=PATH`), and gives `mb build`'s tree: the
// same names, modes, link targets and bytes, for every example under examples/ (discovered when the test runs). Where
// a file embeds a path of its build (EMBEDS: the output path; or a dependency's or an input's, which lie in the deps
// directory under their store entry names, not in the store), that path is the only difference.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb, mbBuild, ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";
import { compareTrees, EMBEDS, exampleNames } from "./trees.js";

// Builds of the examples (and of their dependencies) take tens of seconds on a loaded machine: no test is timed.
const SLOW = 900_000;
const dirs = tempDirs("mb-engines-shell");
afterAll(() => dirs.removeAll());

const CHAIN = "test/engines/fixtures/chain.ts";
const store = dirs.tempDir("store");
// The scripts are rendered against a store that is never built into: they can only work without one.
const renderStore = dirs.tempDir("render-store");

/** The script `mb render shell` prints for `builder`. */
function render(builder: string): string {
  const r = mb(["render", "shell", builder], { store: renderStore });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** Writes the script as build.sh in `dir` (a fresh empty directory unless given) and runs `bash build.sh ...args` there with only PATH set. */
function run(script: string, args: readonly string[], dir = dirs.tempDir("run")) {
  writeFileSync(join(dir, "build.sh"), script);
  const r = spawnSync("bash", ["build.sh", ...args], { cwd: dir, env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" });
  return { dir, status: r.status, stderr: r.stderr };
}

/** The lines of a script that are not comments (what bash runs). */
const code = (script: string) => script.split("\n").filter((l) => !l.startsWith("#"));

describe("every example, built by its standalone shell script, equals mb build's tree", () => {
  for (const name of exampleNames(ROOT)) {
    it(`examples/${name}`, () => {
      const built = mbBuild(`examples/${name}`, store);
      const script = render(`examples/${name}`);
      expect(code(script).filter((l) => l.includes(renderStore)), "the script names no store path").toEqual([]);
      const ran = run(script, ["OUT"]);
      expect(ran.status, ran.stderr).toBe(0);
      const out = join(ran.dir, "OUT");
      const pairs = [{ from: out, to: built, label: "the output path" }, { from: join(ran.dir, ".mb-deps"), to: store, label: "the store" }];
      const cmp = compareTrees(out, built, pairs);
      expect(cmp.differences).toEqual([]);
      // The only files that differ are those that embed a path of their build, and they differ by exactly that path.
      expect(cmp.embedding).toEqual(EMBEDS[name] ?? []);
      expect(readdirSync(ran.dir).sort()).toEqual(existsSync(join(ran.dir, ".mb-deps")) ? [".mb-deps", "OUT", "build.sh"] : ["OUT", "build.sh"]);
    }, SLOW);
  }
});

describe("dependencies", () => {
  it("examples/oci-image: busybox-static-rootfs is built first into .mb-deps, sealed as its store entry is", () => {
    const dep = mbBuild("examples/oci-image/busybox-rootfs.ts", store);
    const ran = run(render("examples/oci-image"), ["OUT"]);
    expect(ran.status, ran.stderr).toBe(0);
    const deps = readdirSync(join(ran.dir, ".mb-deps")).sort();
    expect(deps).toHaveLength(2);
    expect(deps[0]).toMatch(/^[0-9a-df-np-sv-z]{32}-busybox-static-rootfs$/);
    expect(deps[1]).toBe(`${deps[0]}.done`);
    expect(compareTrees(join(ran.dir, ".mb-deps", deps[0]!), dep)).toEqual({ differences: [], embedding: [] });
  }, SLOW);

  it("--dep NAME=PATH takes a dependency's output instead of building it", () => {
    const dep = mbBuild("examples/oci-image/busybox-rootfs.ts", store);
    const built = mbBuild("examples/oci-image", store);
    const ran = run(render("examples/oci-image"), ["--dep", `busybox-static-rootfs=${dep}`, "OUT"]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stderr).not.toContain("building busybox-static-rootfs");
    expect(existsSync(join(ran.dir, ".mb-deps"))).toBe(false);
    expect(compareTrees(join(ran.dir, "OUT"), built)).toEqual({ differences: [], embedding: [] });
  }, SLOW);

  it("a chain (top needs middle and base, middle needs base): each built once, in order, into --deps DIR; reused by the next run", () => {
    const built = mbBuild(CHAIN, store);
    const script = render(CHAIN);
    const ran = run(script, ["--deps", "deps", "OUT"]);
    expect(ran.status, ran.stderr).toBe(0);
    const building = ran.stderr.split("\n").filter((l) => l.startsWith("build.sh: building"));
    expect(building.map((l) => l.replace(/ into .*/, ""))).toEqual(["build.sh: building chain-base", "build.sh: building chain-middle"]);
    const cmp = compareTrees(join(ran.dir, "OUT"), built);
    expect(cmp).toEqual({ differences: [], embedding: ["self-link: the output path"] });
    // The middle build read the base's output sealed: files 0444 or 0555, as in the store.
    expect(readFileSync(join(ran.dir, "OUT/all"), "utf8")).toBe("from base\nand middle\nfrom base\n");
    const again = run(script, ["--deps", join(ran.dir, "deps"), "OUT2"], ran.dir);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toContain("build.sh: building");
    expect(compareTrees(join(ran.dir, "OUT2"), built).differences).toEqual([]);
  }, SLOW);

  it("the middle of the chain saw its dependency sealed (its modes file matches mb build's)", () => {
    const middle = mbBuild(`${CHAIN}#middle`, store);
    expect(readFileSync(join(middle, "modes"), "utf8")).toBe("-r--r--r-- msg\n-r-xr-xr-x tool\n");
    const ran = run(render(`${CHAIN}#middle`), ["OUT"]);
    expect(ran.status, ran.stderr).toBe(0);
    expect(readFileSync(join(ran.dir, "OUT/modes"), "utf8")).toBe("-r--r--r-- msg\n-r-xr-xr-x tool\n");
  }, SLOW);
});

describe("bad input", () => {
  it("a failing step is reported by name and number, with its exit status", () => {
    const ran = run(render(`${CHAIN}#failing`), ["OUT"]);
    expect(ran.status).toBe(3);
    expect(ran.stderr).toContain("--- step 2/2 fail-on-purpose (runStep)\nabout to fail\n");
    expect(ran.stderr).toContain("mb: chain-failing: step 2/2 fail-on-purpose (runStep) failed with exit status 3\n");
  }, SLOW);

  it("an unknown --dep, a --dep path that does not exist, an unknown option and a non-empty OUT are refused", () => {
    const script = render("examples/oci-image");
    const unknown = run(script, ["--dep", "nope=/usr", "OUT"]);
    expect([unknown.status, unknown.stderr.split("\n")[0]]).toEqual([2, "build.sh: --dep nope: no such dependency (known: busybox-static-rootfs)"]);
    const absent = run(script, ["--dep", "busybox-static-rootfs=missing", "OUT"]);
    expect(absent.status).toBe(2);
    expect(absent.stderr).toContain(`--dep busybox-static-rootfs: ${absent.dir}/missing does not exist`);
    const option = run(script, ["--frobnicate", "OUT"]);
    expect([option.status, option.stderr.split("\n")[0]]).toEqual([2, "build.sh: unknown option --frobnicate"]);
    const dir = dirs.tempDir("nonempty");
    writeFileSync(join(dir, "x"), "");
    const full = run(script, [dir]);
    expect([full.status, full.stderr]).toEqual([1, `build.sh: ${dir} exists and is not an empty directory\n`]);
  }, SLOW);

  it("a deps directory a step's script could not embed is refused before anything runs", () => {
    const ran = run(render(CHAIN), ["--deps", "my deps", "OUT"]);
    expect(ran.status).toBe(2);
    expect(ran.stderr).toContain("holds a character outside [A-Za-z0-9._+@,=~/-]");
    expect(existsSync(join(ran.dir, "OUT"))).toBe(false);
  }, SLOW);
});

describe("shellcheck", () => {
  it("every example's script and the chain's are shellcheck-clean", () => {
    for (const builder of [...exampleNames(ROOT).map((n) => `examples/${n}`), CHAIN]) {
      const sc = spawnSync("shellcheck", ["-"], { input: render(builder), encoding: "utf8" });
      if (sc.error) throw new Error(`shellcheck is required for this test and could not be run (apt-get install shellcheck): ${sc.error.message}`);
      expect([builder, sc.stdout, sc.status]).toEqual([builder, "", 0]);
    }
  }, SLOW);
});
