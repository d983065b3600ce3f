// The cache: an unchanged plan is a hit and runs no step; a changed input, a changed step or a changed
// SOURCE_DATE_EPOCH gives a new store path; `mb path` agrees with `mb build` before anything is built.
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bashStep, cleanup, entries, events, FIXTURES, lastLine, mb, output, spec, tempDir, writeSpec } from "./helpers.js";

afterAll(cleanup);

function copySpec(input: string, step = "copy"): Record<string, unknown> {
  return spec({
    name: "copies-input",
    tools: ["bash", "coreutils"],
    ops: [
      { _con: "copyPath", source: { _con: "localSource", name: "src", path: input }, output: output("tree", "tree", "tree") },
      bashStep(step, 'cat "$out/tree/file.txt" > "$out/copy.txt"'),
    ],
    outputs: [output("tree", "tree", "tree"), output("copy", "copy.txt", "text")],
  });
}

describe("cache", () => {
  it("an unchanged plan is a hit and runs no step (with and without the evaluation cache)", () => {
    const store = tempDir("store");
    const builder = join(FIXTURES, "deterministic.json");
    const first = mb(["build", builder, "--store", store, "--no-out-link", "--json"]);
    expect(first.status, first.stderr).toBe(0);
    const ran = events(first.stdout);
    expect(ran.filter((e) => e.event === "step-start").map((e) => (e as { step: string }).step)).toEqual(["write:greeting.txt", "archive"]);
    const path = (ran.at(-1) as { storePath: string }).storePath;
    const log = join(store, ".logs", `${path.slice(store.length + 1)}.log`);
    const logTime = statSync(log).mtimeMs;

    for (const env of [{}, { MB_EVAL_CACHE: "0" }]) {
      const again = mb(["build", builder, "--store", store, "--no-out-link", "--json"], { env });
      expect(again.status, again.stderr).toBe(0);
      const evs = events(again.stdout);
      expect(evs.some((e) => e.event === "step-start" || e.event === "build-start")).toBe(false);
      expect(evs.find((e) => e.event === "cached")).toMatchObject({ name: "deterministic", storePath: path });
      expect(evs.at(-1)).toEqual({ event: "result", storePath: path });
    }
    expect(statSync(log).mtimeMs).toBe(logTime);
    expect(entries(store)).toEqual([path.slice(store.length + 1)]);
  });

  it("a changed input gives a new path; `mb path` knows it before the build", () => {
    const store = tempDir("store");
    const input = join(tempDir("input"), "tree");
    mkdirSync(input);
    writeFileSync(join(input, "file.txt"), "one\n");
    const file = writeSpec(tempDir("spec"), "builder.json", copySpec(input));

    const predicted1 = mb(["path", file, "--store", store]);
    expect(predicted1.status, predicted1.stderr).toBe(0);
    const b1 = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(b1.status, b1.stderr).toBe(0);
    const p1 = lastLine(b1.stdout);
    expect(p1).toBe(predicted1.stdout.trim());
    expect(readFileSync(join(p1, "copy.txt"), "utf8")).toBe("one\n");

    writeFileSync(join(input, "file.txt"), "two\n");
    const predicted2 = mb(["path", file, "--store", store]).stdout.trim();
    const b2 = mb(["build", file, "--store", store, "--no-out-link"]);
    expect(b2.status, b2.stderr).toBe(0);
    const p2 = lastLine(b2.stdout);
    expect(p2).not.toBe(p1);
    expect(p2).toBe(predicted2);
    expect(readFileSync(join(p2, "copy.txt"), "utf8")).toBe("two\n");
    expect(readFileSync(join(p1, "copy.txt"), "utf8")).toBe("one\n"); // the old entry is untouched

    // Same bytes again: the same path as the first time, and a hit.
    writeFileSync(join(input, "file.txt"), "one\n");
    const b3 = mb(["build", file, "--store", store, "--no-out-link", "--json"]);
    expect((events(b3.stdout).at(-1) as { storePath: string }).storePath).toBe(p1);
    expect(events(b3.stdout).some((e) => e.event === "step-start")).toBe(false);
  });

  it("a changed step or SOURCE_DATE_EPOCH gives a new path", () => {
    const store = tempDir("store");
    const input = join(tempDir("input"), "tree");
    mkdirSync(input);
    writeFileSync(join(input, "file.txt"), "x\n");
    const dir = tempDir("spec");
    const a = mb(["path", writeSpec(dir, "a.json", copySpec(input)), "--store", store]).stdout.trim();
    const b = mb(["path", writeSpec(dir, "b.json", copySpec(input, "copy-renamed")), "--store", store]).stdout.trim();
    const c = mb(["path", join(dir, "a.json"), "--store", store], { env: { SOURCE_DATE_EPOCH: "2" } }).stdout.trim();
    expect(new Set([a, b, c]).size).toBe(3);
  });
});
