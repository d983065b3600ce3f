// Shared by the engine tests: run the real `mb` (dist/cli/main.js) as a process with its own store, write small JSON
// builders, and read --json events.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BuildEvent } from "../../src/engine/events.js";
import { tempDirs } from "../support/temp-dirs.js";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const MB = join(ROOT, "dist/cli/main.js");
export const FIXTURES = join(ROOT, "test/fixtures/engine");

if (!existsSync(MB)) throw new Error(`${MB} is missing: build first with \`npx tsc -p tsconfig.build.json\``);

const dirs = tempDirs("mb-engine");
/** A fresh temporary directory, removed by `cleanup`. */
export const tempDir = dirs.tempDir;
/** Removes every temporary directory made so far. */
export const cleanup = dirs.removeAll;

/** The result of a finished `mb` process. */
export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment `mb` runs with in tests: no MB_STORE or SOURCE_DATE_EPOCH leaking in from outside. */
export function testEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.MB_STORE;
  if (!("SOURCE_DATE_EPOCH" in extra)) delete env.SOURCE_DATE_EPOCH;
  return env;
}

/** Runs `mb` to completion. */
export function mb(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Ran {
  const r = spawnSync(process.execPath, [MB, ...args], { encoding: "utf8", cwd: opts.cwd ?? ROOT, env: testEnv(opts.env), maxBuffer: 1 << 26 });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `mb` in the background; `done` resolves when it exits. */
export function mbStart(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { child: ChildProcess; done: Promise<Ran>; stdout: () => string } {
  const child = spawn(process.execPath, [MB, ...args], { cwd: opts.cwd ?? ROOT, env: testEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const done = new Promise<Ran>((resolve) => child.on("close", (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout: out, stderr: err })));
  return { child, done, stdout: () => out };
}

/** Waits until `pred` holds (polling), or fails after `ms`. */
export async function until(pred: () => boolean, ms = 30_000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The --json events printed on stdout. */
export function events(stdout: string): BuildEvent[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as BuildEvent);
}

/** The last line of stdout (where `mb build` prints the store path). */
export function lastLine(stdout: string): string {
  const lines = stdout.trimEnd().split("\n");
  return lines[lines.length - 1]!;
}

/** Entry names in a store (complete or not), sorted. */
export function entries(store: string): string[] {
  return existsSync(store) ? readdirSync(store).filter((n) => !n.startsWith(".")).sort() : [];
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
