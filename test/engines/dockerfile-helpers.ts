// Shared by the Dockerfile engine tests (BuildKit and buildah): render a builder's build context with the real `mb`,
// compare output trees with `diff -r`, and a builder whose second step fails.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";
import { mb } from "../support/mb.js";
import { bashStep, spec, writeSpec } from "../engine/helpers.js";

/** Every example; each builds with both engines (their Debian tools are installed by .ci/run). */
export const EXAMPLES = ["examples/oci-image", "examples/node-service", "examples/c-codegen", "examples/idl"] as const;

/** Runs `mb render dockerfile --context <dir>/ctx <builder>` with `store`; returns the context directory. */
export function renderContext(builder: string, store: string, dir: string): string {
  const context = join(dir, "ctx");
  const r = mb(["render", "dockerfile", "--context", context, builder], { store });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toBe(`${join(context, "Dockerfile")}\n`);
  return context;
}

/** What `diff -r` prints for two trees (empty when they are equal, contents and names). */
export function diffTrees(a: string, b: string): string {
  const r = spawnSync("diff", ["-r", a, b], { encoding: "utf8" });
  return r.stdout + r.stderr;
}

/** A builder of two steps, `prepare` (passes) and `explode` (exits 3), written to `<dir>/fails.json`. */
export function failingBuilder(dir: string): string {
  return writeSpec(
    dir,
    "fails.json",
    spec({ name: "fails-at-explode", tools: ["bash"], ops: [bashStep("prepare", 'echo ready > "$out/ready"'), bashStep("explode", "echo about to fail; exit 3")] }),
  );
}

/** The lines the failing builder's build must print: each step's name, and the failed one's status. */
export const FAILURE_LINES = ["mb: step 1/2: prepare", "mb: step 2/2: explode", "mb: step 2/2: explode failed with exit status 3"];
