// Failure: a failing step gives exit 1 naming the step, its exit status and its last 20 log lines; nothing enters the
// store and the build directory is removed, unless --keep-failed.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bashStep, building, cleanup, entries, events, FIXTURES, mb, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

const FAILING = join(FIXTURES, "failing.json");

describe("a failing step", () => {
  it("exits 1 with the step's name, its status and its last 20 lines, and leaves nothing behind", () => {
    const store = tempDir("store");
    const tmp = tempDir("tmp");
    const r = mb(["build", FAILING, "--store", store, "--out-link", join(tmp, "..", "never-made")], { env: { TMPDIR: tmp } });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("mb: error: build of 'failing' failed: step 2/3 'count-then-fail' exited with status 3\nlast 20 lines of its output:\n  | line 11\n");
    expect(r.stderr).toContain("  | line 30\nmb: hint:");
    expect(r.stderr).not.toContain("| line 10\n");
    expect(r.stderr).toContain("rerun with --keep-failed to keep the build directory");
    expect(r.stderr).not.toContain("never-runs");
    expect(entries(store)).toEqual([]);
    expect(building(store)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]); // the build directory is gone
    expect(existsSync(join(tmp, "..", "never-made"))).toBe(false);

    // The whole log is kept for `mb log`.
    const log = mb(["log", FAILING, "--store", store]);
    expect(log.status).toBe(0);
    expect(log.stdout).toContain("--- step 1/3: fine (runStep)");
    expect(log.stdout).toContain("line 1\nline 2\n");
    expect(log.stdout).toContain("--- step 2/3: count-then-fail failed with exit status 3");
  });

  it("with --keep-failed keeps the build directory and the partial output, and says where", () => {
    const store = tempDir("store");
    const tmp = tempDir("tmp");
    const r = mb(["build", FAILING, "--store", store, "--keep-failed", "--no-out-link"], { env: { TMPDIR: tmp } });
    expect(r.status).toBe(1);
    const m = /build directory kept at (\S+), partial output at (\S+)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    expect(readdirSync(m![1]!).sort()).toEqual(["bin", "build", "etc", "steps", "tmp"]);
    expect(readdirSync(m![2]!)).toEqual(["fine.txt"]);
    expect(entries(store)).toEqual([]);
    // gc clears the abandoned partial output and build directory.
    expect(mb(["gc", "--store", store]).status).toBe(0);
    expect(existsSync(m![2]!)).toBe(false);
    expect(existsSync(m![1]!)).toBe(false);
  });
});

describe("a plan the engine cannot run", () => {
  it("a builder other than runCommand is refused before anything runs (exit 1)", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "other.json", { ...spec({ name: "other", tools: ["bash"], ops: [] }), operations: [{ _con: "materializeDerivation", name: "other", builder: "stdenv.mkDerivation" }] });
    const r = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: 'other' uses the builder 'stdenv.mkDerivation'; the engine realizes only runCommand plans");
    expect(entries(store)).toEqual([]);
  });
});

describe("the steps of one build", () => {
  it("run in one shell, each apart: a step killed by a signal is named with it, and later steps never run", () => {
    const store = tempDir("store");
    const file = writeSpec(tempDir("spec"), "killed.json", spec({
      name: "killed",
      tools: ["bash"],
      ops: [
        bashStep("first", 'echo first > "$out/first.txt"'),
        bashStep("die", "echo about to die; kill -KILL $$"),
        bashStep("never", 'echo never > "$out/never.txt"'),
      ],
    }));
    const r = mb(["build", file, "--store", store, "--no-out-link", "--json"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("mb: error: build of 'killed' failed: step 2/3 'die' was killed by SIGKILL\nlast 2 lines of its output:\n  | about to die\n");
    expect(r.stderr).toMatch(/ {2}\| .*Killed/);
    const steps = events(r.stdout).flatMap((e) => (e.event === "step-done" ? [`${e.step} ${e.status}`] : e.event === "step-start" ? [`start ${e.step}`] : []));
    expect(steps).toEqual(["start first", "first 0", "start die", "die 137"]);
    expect(entries(store)).toEqual([]);
  });
});
