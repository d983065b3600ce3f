// `mb render shell` as a standalone build (issues 11 and 13): the script sets what the engine sets for every step
// (`$out` from its first argument, SOURCE_DATE_EPOCH, LC_ALL, HOME, a private TMPDIR), so run with `bash build.sh OUT`
// in an empty directory, with nothing but the host's PATH in its environment, it gives `mb build`'s output tree.
// Where a file embeds the output path (node-service's bin wrapper), that path is the only difference.
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mb, mbBuild } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

// Builds of the examples (and of their dependencies) take tens of seconds on a loaded machine: no test is timed.
const SLOW = 900_000;
const dirs = tempDirs("mb-render-shell");
afterAll(() => dirs.removeAll());

/** Renders `example`'s plan, runs it as `bash build.sh OUT` in an empty directory with a bare environment; returns OUT. */
function runScript(example: string, store: string): string {
  const r = mb(["render", "shell", example], { store });
  expect(r.status, r.stderr).toBe(0);
  const dir = dirs.tempDir("run");
  writeFileSync(join(dir, "build.sh"), r.stdout);
  const ran = spawnSync("bash", ["build.sh", "OUT"], { cwd: dir, env: { PATH: "/usr/bin:/bin" }, encoding: "utf8" });
  expect(ran.status, ran.stderr).toBe(0);
  return join(dir, "OUT");
}

/** The lines `diff -r` prints for two trees. */
function diffTrees(a: string, b: string): string {
  return spawnSync("diff", ["-r", a, b], { encoding: "utf8" }).stdout;
}

describe("mb render shell, run standalone, builds what mb build builds", () => {
  it("examples/oci-image: the same image layout, byte for byte (digests included)", () => {
    const store = dirs.tempDir("store");
    const built = mbBuild("examples/oci-image", store);
    const out = runScript("examples/oci-image", store);
    expect(diffTrees(out, built)).toBe("");
    expect(readFileSync(join(out, "index.json"), "utf8")).toBe(readFileSync(join(built, "index.json"), "utf8"));
  }, SLOW);

  it("examples/node-service: the same tree; the bin wrapper differs exactly by the output path it embeds", () => {
    const store = dirs.tempDir("store");
    const built = mbBuild("examples/node-service", store);
    const out = runScript("examples/node-service", store);
    const wrapper = "bin/node-service-demo";
    const diff = diffTrees(out, built);
    expect(diff.split("\n").filter((l) => l.startsWith("diff -r") || l.startsWith("Only in"))).toEqual([`diff -r ${join(out, wrapper)} ${join(built, wrapper)}`]);
    expect(readFileSync(join(out, wrapper), "utf8").replaceAll(out, built)).toBe(readFileSync(join(built, wrapper), "utf8"));
  }, SLOW);

  it("a relative OUT lands in the working directory, and the script leaves no temporary directory behind", () => {
    const store = dirs.tempDir("store");
    mbBuild("examples/node-service", store);
    const r = mb(["render", "shell", "examples/node-service"], { store });
    const dir = dirs.tempDir("run");
    const tmp = dirs.tempDir("tmp");
    writeFileSync(join(dir, "build.sh"), r.stdout);
    const ran = spawnSync("bash", ["build.sh", "rel/out"], { cwd: dir, env: { PATH: "/usr/bin:/bin", TMPDIR: tmp }, encoding: "utf8" });
    expect(ran.status, ran.stderr).toBe(0);
    expect(readFileSync(join(dir, "rel/out/bin/node-service-demo"), "utf8")).toContain(join(dir, "rel/out/lib/node-service-demo/server.js"));
    expect(spawnSync("ls", ["-A", tmp], { encoding: "utf8" }).stdout).toBe("");
  }, SLOW);
});
