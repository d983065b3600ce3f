// The one way tests run the real `mb` (dist/cli/main.js, built by `npm run build`; `npm test` builds first).
//
// Environment policy, the same for every test that runs `mb` (directly, through `npx mb`, or in a shell pipeline):
//   1. Start from the test process's environment (PATH, HOME, TMPDIR, locale: what the host tools need).
//   2. Remove every variable `mb` reads as a setting, so nothing leaks in from the shell that started the tests:
//      every `MB_*` variable (MB_STORE, MB_EVAL_CACHE, and any later one) and SOURCE_DATE_EPOCH (mb's default is 1).
//   3. Point XDG_CACHE_HOME at one temporary directory of the test run (test/support/global-setup.ts makes it and
//      removes it), so the builder bundle cache and the default store (`$XDG_CACHE_HOME/metabuilder/...`) are never
//      the user's `~/.cache`, and nothing a test reads comes from outside the repository and the run.
//   4. Point DOCKER_CONFIG into that directory too and drop REGISTRY_AUTH_FILE, so registry credentials (and the
//      credential helpers a config names) are never the user's `~/.docker/config.json`.
//   5. Apply what the test gives: `store` sets MB_STORE, `env` sets (or overrides) anything above.
// The working directory is the repository root unless the test gives `cwd`.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { inject } from "vitest";
import type { BuildEvent } from "../../src/engine/events.js";

/** The repository root (no trailing slash). */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** The built CLI. */
export const MB = join(ROOT, "dist/cli/main.js");

/** The result of a finished `mb` process (a process killed by a signal has status 128). */
export interface Ran {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How to run `mb`: where, with which store (MB_STORE), and which extra environment. */
export interface MbOptions {
  readonly cwd?: string;
  readonly store?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/** The run's XDG_CACHE_HOME for `mb`, made and removed by test/support/global-setup.ts. */
function testCacheHome(): string {
  const dir = inject("mbCacheHome");
  if (!dir) throw new Error("no XDG_CACHE_HOME for mb: run the tests through vitest.config.ts (its globalSetup is test/support/global-setup.ts)");
  return dir;
}

/** The environment `mb` runs with in tests (the policy above). */
export function mbEnv(opts: Pick<MbOptions, "store" | "env"> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MB_") && k !== "SOURCE_DATE_EPOCH" && k !== "REGISTRY_AUTH_FILE") env[k] = v;
  env.XDG_CACHE_HOME = testCacheHome();
  env.DOCKER_CONFIG = join(testCacheHome(), "docker-config");
  if (opts.store !== undefined) env.MB_STORE = opts.store;
  return { ...env, ...opts.env };
}

function requireBuilt(): void {
  if (!existsSync(MB)) throw new Error(`${MB} is missing: run \`npm run build\` first (\`npm test\` builds before it runs the tests)`);
}

/** The command words that start `mb` (node and the CLI), for shell pipelines; run them with `mbEnv()`. */
export function mbCommand(): string[] {
  requireBuilt();
  return [process.execPath, MB];
}

/** Runs `mb` to completion; never throws on a non-zero status. */
export function mb(args: readonly string[], opts: MbOptions = {}): Ran {
  requireBuilt();
  const r = spawnSync(process.execPath, [MB, ...args], { encoding: "utf8", cwd: opts.cwd ?? ROOT, env: mbEnv(opts), maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { status: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

/** A running `mb`: the process, its exit, and its stdout so far. */
export interface Started {
  readonly child: ChildProcess;
  readonly done: Promise<Ran>;
  readonly stdout: () => string;
}

/** Starts `mb` in the background; `done` resolves when it exits. */
export function mbStart(args: readonly string[], opts: MbOptions = {}): Started {
  requireBuilt();
  const child = spawn(process.execPath, [MB, ...args], { cwd: opts.cwd ?? ROOT, env: mbEnv(opts), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const done = new Promise<Ran>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), stdout: out, stderr: err }));
  });
  return { child, done, stdout: () => out };
}

/** Runs `mb` asynchronously to completion (many at once with `describe.concurrent`). */
export function mbAsync(args: readonly string[], opts: MbOptions = {}): Promise<Ran> {
  return mbStart(args, opts).done;
}

/** `mb build <target> --no-out-link` into `store` (MB_STORE); returns the store path (the last line of stdout) or throws with stderr. */
export function mbBuild(target: string, store: string, env?: NodeJS.ProcessEnv): string {
  const r = mb(["build", target, "--no-out-link"], { store, env });
  if (r.status !== 0) throw new Error(`mb build ${target} exited ${r.status}:\n${r.stderr}`);
  return lastLine(r.stdout);
}

/** The --json events printed on stdout, one per line. */
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
