// Shared by the engine tests: run the real `mb` through the one harness (test/support/mb.ts: its own store, one
// environment policy), write small JSON builders, and read --json events.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/mb.js";
import { tempDirs } from "../support/temp-dirs.js";

export { entries, events, lastLine, MB, mb, mbStart, ROOT, type Ran } from "../support/mb.js";
export const FIXTURES = join(ROOT, "test/fixtures/engine");

const dirs = tempDirs("mb-engine");
/** A fresh temporary directory, removed by `cleanup`. */
export const tempDir = dirs.tempDir;
/** Removes every temporary directory made so far. */
export const cleanup = dirs.removeAll;

/** Waits until `pred` holds (polling), or fails after `ms`. */
export async function until(pred: () => boolean, ms = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Names in a store's build area (.b): non-empty only while a build runs or after --keep-failed. */
export function building(store: string): string[] {
  const b = join(store, ".b");
  return existsSync(b) ? readdirSync(b) : [];
}

// ---- JSON builders -------------------------------------------------------------------------------------------

/** A tool from a host package. */
export const tool = (name: string, pkg = name) => ({ _con: "MetaBuilderTool", name, package: { _con: "hostPackage", name: pkg } });
/** An output record. */
export const output = (name: string, path: string, format = "path") => ({ _con: "MetaBuilderOutput", name, path, format });
/** A `bash -c <script> <name>` step. */
export const bashStep = (name: string, script: string, extraArgs: unknown[] = [], env: Record<string, string> = {}) => ({
  _con: "runTool",
  name,
  tool: tool("bash"),
  args: ["-c", script, name, ...extraArgs],
  env,
});

/** A whole spec: declares the tools, runs the operations, declares the outputs (transformOutput) and names it. */
export function spec(o: { name: string; tools: string[]; ops: unknown[]; outputs?: ReturnType<typeof output>[]; evidence?: unknown[] }): Record<string, unknown> {
  const tools = o.tools.map((t) => tool(t));
  const outputs = o.outputs ?? [];
  return {
    _con: "MetaBuilderSpec",
    name: o.name,
    parameters: [],
    inputs: [],
    dependencies: [],
    tools,
    operations: [
      ...tools.map((t) => ({ _con: "declareTool", tool: t })),
      ...o.ops,
      ...outputs.map((out) => ({ _con: "transformOutput", output: out })),
      { _con: "materializeDerivation", name: o.name },
    ],
    outputs,
    evidence: o.evidence ?? [],
  };
}

/** Writes a spec as `<dir>/<file>` and returns the path. */
export function writeSpec(dir: string, file: string, value: unknown): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, file);
  writeFileSync(path, JSON.stringify(value, null, 2) + "\n");
  return path;
}
