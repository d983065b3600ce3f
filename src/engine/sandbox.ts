/**
 * The build environment: a fresh temporary directory per build (beside `$out` in the build's own directory of the
 * store's `.b/` when building, so gc removes what a killed build left), and exactly this environment for every step:
 * `out`, `TMPDIR`, `HOME` (a directory that does not exist), `SOURCE_DATE_EPOCH`, `LC_ALL=C`, `PATH` (a symlink farm of the declared tools'
 * executables and the engine's base tools, nothing else) and `pathMap_*` (store copies of the local inputs). With a
 * confinement, the steps run inside bubblewrap (confine.ts).
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { isExecutableFile } from "./host.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BuildPlan } from "../core/plan.js";
import type { PackageRef } from "../core/spec.js";
import { safeName } from "../program/fingerprint.js";
import { ldLibraryPathExport } from "../program/render.js";
import { killGroup, type Interrupt } from "./interrupt.js";
import { forceRemove } from "./store.js";
import { ensureDir, isWithin } from "./dirs.js";
import { driverScript, MarkerParser, type StepsExit } from "./driver.js";
import { bwrapArgs, toolBinds, writeSandboxEtc, type Confinement } from "./bwrap.js";
import { BUILD_INFO_VAR } from "../core/build-info-var.js";

export type { StepsExit } from "./driver.js";

/** One step as the sandbox runs it: its rendered shell and the header line the log shows before it. */
export interface SandboxStep {
  readonly shell: string;
  readonly header: string;
}

/** A prepared build environment. */
export interface Sandbox {
  /** The temporary build directory holding everything below. */
  readonly top: string;
  /** The working directory of every step. */
  readonly cwd: string;
  /** The complete environment of every step. */
  readonly env: Readonly<Record<string, string>>;
  /** The bash that interprets the steps: the declared `bash` tool when there is one, else the host's. */
  readonly shell: string;
  /** Executable names on PATH. */
  readonly path: readonly string[];
  /**
   * Runs the steps in order from one bash process (see driverScript), with the plan's LD_LIBRARY_PATH export first;
   * output goes to `logFd`. Stops at the first failing step. `on` hears each step start and end.
   */
  runSteps(steps: readonly SandboxStep[], logFd: number, interrupt: Interrupt, on: StepListener): Promise<StepsExit>;
  /** The program and arguments that run one bash script as a step runs (inside bubblewrap when confined). */
  commandFor(script: string): [string, string[]];
  /** Removes the build directory. */
  dispose(): void;
}

/** Called as steps start and end (0-based index). */
export interface StepListener {
  onStart(index: number): void;
  onDone(index: number, status: number): void;
}

/** The executables a tool's package puts on PATH: a host package's own, else the `bin` directory of its store path. */
export function executablesOf(pkg: PackageRef, toolName: string): Record<string, string> {
  if (typeof pkg !== "object" || pkg._con !== "resolvedPackage") return {};
  if (pkg.origin === "host") return pkg.executables;
  const out: Record<string, string> = {};
  const bin = join(pkg.outPath, "bin");
  try {
    for (const name of readdirSync(bin).sort()) if (isExecutableFile(join(bin, name))) out[name] = join(bin, name);
  } catch {
    if (isExecutableFile(pkg.outPath)) out[toolName] = pkg.outPath;
  }
  return out;
}

function hostBash(): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (dir && isExecutableFile(join(dir, "bash"))) return join(dir, "bash");
  }
  return "/bin/bash";
}

function writeFarm(dir: string, farm: Readonly<Record<string, string>>): void {
  for (const [name, target] of Object.entries(farm)) symlinkSync(target, join(dir, name));
}

/**
 * The PATH farm for exactly these executables, made once and reused: creating symlinks costs about 1.5 ms each on
 * some file systems, and a farm of coreutils holds over a hundred. The directory is named by the hash of its
 * mapping, so it holds exactly the declared tools and nothing else; it is built aside and renamed into place.
 */
function cachedFarm(root: string, farm: Readonly<Record<string, string>>): string {
  const names = Object.keys(farm).sort();
  const hash = createHash("sha256").update(names.map((n) => `${n}\0${farm[n]}`).join("\n")).digest("hex").slice(0, 32);
  const dir = join(root, hash);
  if (existsSync(dir)) return dir;
  ensureDir(root);
  const temp = mkdtempSync(join(root, ".tmp-"));
  writeFarm(temp, farm);
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // another build made the same farm first
  }
  return dir;
}

/** Creates the build directory, the PATH farm and the environment for one build whose output goes to `out`. */
export function createSandbox(opts: {
  readonly plan: BuildPlan;
  readonly inputStore: Readonly<Record<string, string>>;
  readonly sourceDateEpoch: number;
  readonly out: string;
  /** Where PATH farms are kept and reused across builds (one per distinct set of tools); none: a farm per build. */
  readonly farmCache?: string;
  /** Executables the engine provides beyond the declared tools (the base tools of writeFile and copyPath). */
  readonly baseTools?: Readonly<Record<string, string>>;
  /**
   * Where the build directory goes: the build's own directory in the store's `.b/`, which holds `$out` too (gc removes
   * it once its owner is gone); none: the system's temporary directory.
   */
  readonly buildRoot?: string;
  /** Run the steps inside bubblewrap; null or none: unconfined (`--no-sandbox`, evidence). */
  readonly confine?: Confinement | null;
  /** Store entries (and other paths) the steps may read: bound read-only inside the sandbox. */
  readonly readOnly?: readonly string[];
  /** The store directory, which the sandbox shows empty and read-only but for the bound entries. */
  readonly storeDir?: string;
  /** `$out` is an existing result, bound read-only (evidence); otherwise it is writable. */
  readonly outReadOnly?: boolean;
  /** The build info (JSON text), written read-only into the build directory and named by `$MB_BUILD_INFO`; none: unset. */
  readonly buildInfo?: string;
}): Sandbox {
  const top = makeTop(opts.plan.name, opts.buildRoot);
  const cwd = join(top, "build");
  const tmp = join(top, "tmp");
  const bin = join(top, "bin");
  const steps = join(top, "steps");
  const etc = join(top, "etc");
  for (const d of [cwd, tmp, bin, steps, etc]) mkdirSync(d);
  const farm: Record<string, string> = {};
  const add = (name: string, target: string) => {
    if (name in farm || name.includes("/") || name.startsWith(".")) return;
    farm[name] = target;
  };
  for (const t of opts.plan.tools) for (const [name, target] of Object.entries(executablesOf(t.package, t.name))) add(name, target);
  for (const [name, target] of Object.entries(opts.baseTools ?? {})) add(name, target);
  const confine = opts.confine ?? null;
  // Confined, the farm is made in memory by bubblewrap; unconfined, the store's cached one (or one per build).
  const pathDir = confine ? bin : opts.farmCache ? cachedFarm(opts.farmCache, farm) : (writeFarm(bin, farm), bin);
  const env: Record<string, string> = {
    out: opts.out,
    TMPDIR: tmp,
    HOME: join(top, "homeless-shelter"),
    SOURCE_DATE_EPOCH: String(opts.sourceDateEpoch),
    LC_ALL: "C",
    PATH: pathDir,
    ...opts.inputStore,
  };
  if (opts.buildInfo !== undefined) {
    env[BUILD_INFO_VAR] = join(top, "build-info.json");
    writeFileSync(env[BUILD_INFO_VAR], opts.buildInfo, { mode: 0o444 });
  }
  const shell = "bash" in farm ? join(pathDir, "bash") : hostBash();
  let command = (script: string): [string, string[]] => [shell, [script]];
  if (confine) {
    writeSandboxEtc(etc, env.HOME!);
    const bound = [...(opts.readOnly ?? []), ...(opts.outReadOnly ? [opts.out] : []), ...(pathDir === bin ? [] : [pathDir])];
    const inside = (p: string) => [...bound, top].some((d) => isWithin(p, d));
    const tools = toolBinds([...Object.values(farm), shell]).filter((p) => !inside(p));
    const readOnly = [...new Set([...bound, ...tools])].filter((p) => existsSync(p));
    const args = bwrapArgs(confine, {
      writable: opts.buildRoot ? [opts.buildRoot] : opts.outReadOnly ? [top] : [top, opts.out],
      readOnly,
      etcDir: etc,
      cwd,
      farm: { dir: bin, links: farm },
      ...(opts.storeDir ? { storeDir: opts.storeDir } : {}),
    });
    command = (script) => [args[0]!, [...args.slice(1), shell, script]];
  }
  const prelude = ["set -euo pipefail"];
  const ld = ldLibraryPathExport(opts.plan.nativePaths);
  if (ld) prelude.push(ld);

  return {
    top,
    cwd,
    env,
    shell,
    path: Object.keys(farm).sort(),
    commandFor: command,
    runSteps(list, logFd, interrupt, on) {
      // The driver and the steps' files are read-only: a step cannot rewrite what runs after it by accident.
      list.forEach((st, i) => writeFileSync(join(steps, `${i}.sh`), `${st.shell}\n`, { mode: 0o444 }));
      const script = join(steps, "run.sh");
      writeFileSync(script, driverScript(list.map((st) => st.header), steps, prelude), { mode: 0o444 });
      chmodSync(steps, 0o555);
      return new Promise<StepsExit>((resolve, reject) => {
        if (interrupt.signal) return resolve({ failed: list.length > 0 ? 0 : null, status: 130, signal: interrupt.signal });
        const [file, argv] = command(script);
        const child = spawn(file, argv, { cwd, env, detached: true, stdio: ["ignore", logFd, logFd, "pipe"] });
        const pid = child.pid;
        if (pid !== undefined) interrupt.addGroup(pid);
        const parser = new MarkerParser(list.length);
        // A confined driver reports pids of its own pid namespace: the host never signals those (the driver kills
        // each step's group itself, and the namespace ends with bwrap); it kills bwrap's group instead.
        const hostGroup = (g: number | null) => (confine ? null : g);
        const endGroup = (g: number | null) => {
          const h = hostGroup(g);
          if (h === null) return;
          killGroup(h);
          interrupt.removeGroup(h);
        };
        const markers = child.stdio[3] as NodeJS.ReadableStream;
        markers.setEncoding("utf8");
        markers.on("data", (chunk: string) => {
          for (const e of parser.feed(chunk)) {
            if (e.kind === "start") {
              const h = hostGroup(e.group);
              if (h !== null) interrupt.addGroup(h);
              on.onStart(e.index);
            } else if (e.kind === "done") {
              endGroup(e.group);
              on.onDone(e.index, e.status);
            } else {
              if (pid !== undefined) killGroup(pid);
              const h = hostGroup(e.group);
              if (h !== null) killGroup(h);
            }
          }
        });
        let exited: { code: number | null; signal: NodeJS.Signals | null } | null = null;
        let closed = false;
        const finish = () => {
          if (!exited || !closed) return;
          if (pid !== undefined) interrupt.removeGroup(pid);
          const { exit, stopped, stoppedFails } = parser.finish(exited.code, exited.signal);
          if (stopped) endGroup(stopped.group);
          if (stopped && stoppedFails) on.onDone(stopped.index, exit.status);
          resolve(exit);
        };
        child.once("error", (e) => {
          if (pid !== undefined) interrupt.removeGroup(pid);
          reject(e);
        });
        markers.on("end", () => {
          closed = true;
          finish();
        });
        child.once("exit", (code, signal) => {
          if (pid !== undefined) killGroup(pid); // nothing of the build outlives it
          exited = { code, signal };
          finish();
        });
      });
    },
    dispose() {
      if (existsSync(top)) forceRemove(top);
    },
  };
}

/** Makes the build directory: `build-<name>` in `buildRoot` (the build's own directory beside $out), else a fresh one in the system's temporary directory. */
function makeTop(name: string, buildRoot: string | undefined): string {
  const label = safeName(name).slice(0, 40);
  if (!buildRoot) return mkdtempSync(join(tmpdir(), `mb-build-${label}-`));
  const top = join(buildRoot, `build-${label}`);
  mkdirSync(top);
  return top;
}
